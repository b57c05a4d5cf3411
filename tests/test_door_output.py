"""The door output's settings: validation, storage, and the Door the factory builds from them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from faceguard.app.door_output import door_output, door_settings_changed
from faceguard.app.settings import KioskSettings, load_settings, save_settings
from faceguard.core.errors import InvalidInputError
from faceguard.door.driver import DEFAULT_PULSE, Polarity
from faceguard.door.gpio_relay import GpioRelayDriver
from faceguard.door.http_relay import HttpRelayDriver
from faceguard.door.mqtt_relay import MqttRelayDriver
from faceguard.door.osdp_reader import OsdpReaderDriver
from faceguard.door.serial_relay import SerialRelayDriver
from faceguard.store.repository import Store


def test_by_default_the_kiosk_has_no_door_output() -> None:
    settings = KioskSettings()
    assert (settings.door_driver, settings.door_pulse, settings.door_polarity) == (
        "none",
        DEFAULT_PULSE,
        "energise-to-unlock",
    )
    assert door_output(settings) is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"door_driver": "wiegand"}, "door output must be one of none, http, shelly, serial, gpio, mqtt, osdp"),
        ({"door_polarity": "both"}, "polarity must be one of energise-to-unlock, energise-to-lock"),
        ({"door_pulse": 0.5}, "between 1 and 30 seconds"),
        ({"door_pulse": 60.0}, "between 1 and 30 seconds"),
        ({"door_driver": "serial"}, "needs its serial port"),
        ({"door_driver": "http", "door_address": "http://relay/open"}, "must contain {state}"),
        ({"door_driver": "http", "door_address": "relay/{state}"}, "http:// or https:// URL"),
        ({"door_driver": "shelly", "door_address": "10.0.0.5"}, "http:// or https:// URL"),
        ({"door_driver": "gpio"}, "needs its GPIO pin"),
        ({"door_driver": "gpio", "door_address": "BOARD11"}, "BCM number from 0 to 27"),
        ({"door_driver": "gpio", "door_address": "40"}, "BCM number from 0 to 27"),
        ({"door_driver": "mqtt"}, "needs its mqtt:// address"),
        ({"door_driver": "mqtt", "door_address": "http://10.0.0.2/shelly1"}, "mqtt://host:port/<the relay's topic"),
        ({"door_driver": "osdp"}, "needs its serial port and reader address"),
        ({"door_driver": "osdp", "door_address": "/dev/ttyUSB0"}, "PORT@ADDRESS or PORT@ADDRESS:BAUD"),
        # found by fuzzing: urllib's own ValueError, or int() of more than 4300 digits, came out instead
        ({"door_driver": "http", "door_address": "http://[fe80::1/{state}"}, "http:// or https:// URL"),
        ({"door_driver": "http", "door_address": "http://relay\uff03/{state}"}, "http:// or https:// URL"),
        ({"door_driver": "shelly", "door_address": "http://[::1"}, "http:// or https:// URL"),
        ({"door_driver": "mqtt", "door_address": "mqtt://[broker/door"}, "mqtt://host:port/<the relay's topic"),
        ({"door_driver": "gpio", "door_address": "GPIO" + "1" * 5000}, "BCM number from 0 to 27"),
        ({"door_driver": "osdp", "door_address": "COM4@" + "1" * 5000}, "PORT@ADDRESS or PORT@ADDRESS:BAUD"),
        ({"door_driver": "osdp", "door_address": "COM4@1:" + "9" * 5000}, "PORT@ADDRESS or PORT@ADDRESS:BAUD"),
    ],
)
def test_invalid_door_settings_are_refused_with_what_is_allowed(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message.replace("{", r"\{").replace("}", r"\}")):
        KioskSettings(**fields)  # type: ignore[arg-type]


def test_the_factory_builds_each_driver_with_the_pulse_and_polarity() -> None:
    shelly = door_output(
        KioskSettings(
            door_driver="shelly", door_address="http://10.0.0.5", door_pulse=6.0, door_polarity="energise-to-lock"
        )
    )
    assert shelly is not None and shelly.pulse_s == 6.0
    assert isinstance(shelly.driver, HttpRelayDriver) and shelly.driver.times_pulse
    assert shelly.driver.polarity is Polarity.ENERGISE_TO_LOCK
    webhook = door_output(KioskSettings(door_driver="http", door_address="http://relay/door/{state}"))
    assert webhook is not None and isinstance(webhook.driver, HttpRelayDriver) and not webhook.driver.times_pulse
    serial = door_output(KioskSettings(door_driver="serial", door_address="/dev/ttyUSB0"))
    assert serial is not None and isinstance(serial.driver, SerialRelayDriver) and serial.driver.port == "/dev/ttyUSB0"
    gpio = door_output(KioskSettings(door_driver="gpio", door_address="17", door_polarity="energise-to-lock"))
    assert gpio is not None and isinstance(gpio.driver, GpioRelayDriver) and gpio.driver.pin == "GPIO17"
    assert gpio.driver.polarity is Polarity.ENERGISE_TO_LOCK and not gpio.driver.times_pulse
    mqtt = door_output(KioskSettings(door_driver="mqtt", door_address="mqtt://10.0.0.2/shellyplus1-a8", door_pulse=3.0))
    assert mqtt is not None and isinstance(mqtt.driver, MqttRelayDriver) and mqtt.driver.times_pulse
    assert mqtt.driver.address.topic == "shellyplus1-a8/rpc" and mqtt.pulse_s == 3.0
    osdp = door_output(KioskSettings(door_driver="osdp", door_address="/dev/ttyUSB1@2:115200"))
    assert osdp is not None and isinstance(osdp.driver, OsdpReaderDriver) and osdp.driver.times_pulse
    assert (osdp.driver.address.port, osdp.driver.address.address, osdp.driver.address.baud) == (
        "/dev/ttyUSB1",
        2,
        115200,
    )


@pytest.mark.parametrize(
    ("driver", "address"),
    [
        ("serial", "/dev/ttyACM0"),
        ("gpio", "GPIO27"),
        ("mqtt", "mqtt://door:pw@broker:1884/site/door"),
        ("osdp", "COM4@3"),
    ],
)
def test_the_door_settings_are_stored_and_followed(tmp_path, driver: str, address: str) -> None:  # type: ignore[no-untyped-def]
    settings = KioskSettings(door_driver=driver, door_address=address, door_pulse=3.0)
    with Store.open(tmp_path / "faceguard.db") as store:
        save_settings(store, settings)
        assert load_settings(store) == settings
    assert door_settings_changed(KioskSettings(), settings)
    assert not door_settings_changed(settings, replace(settings, k=2))
