"""The door output's settings: validation, storage, and the Door the factory builds from them."""

from __future__ import annotations

import pytest

from faceguard.app.door_output import door_output, door_settings_changed
from faceguard.app.settings import KioskSettings, load_settings, save_settings
from faceguard.core.errors import InvalidInputError
from faceguard.door.driver import DEFAULT_PULSE, Polarity
from faceguard.door.http_relay import HttpRelayDriver
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
        ({"door_driver": "gpio"}, "door output must be one of none, http, shelly, serial"),
        ({"door_polarity": "both"}, "polarity must be one of energise-to-unlock, energise-to-lock"),
        ({"door_pulse": 0.5}, "between 1 and 30 seconds"),
        ({"door_pulse": 60.0}, "between 1 and 30 seconds"),
        ({"door_driver": "serial"}, "needs its serial port"),
        ({"door_driver": "http", "door_address": "http://relay/open"}, "must contain {state}"),
        ({"door_driver": "http", "door_address": "relay/{state}"}, "http:// or https:// URL"),
        ({"door_driver": "shelly", "door_address": "10.0.0.5"}, "http:// or https:// URL"),
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


def test_the_door_settings_are_stored_and_followed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = KioskSettings(door_driver="serial", door_address="/dev/ttyACM0", door_pulse=3.0)
    with Store.open(tmp_path / "faceguard.db") as store:
        save_settings(store, settings)
        assert load_settings(store) == settings
    assert door_settings_changed(KioskSettings(), settings)
    assert not door_settings_changed(
        settings, KioskSettings(door_driver="serial", door_address="/dev/ttyACM0", door_pulse=3.0, k=2)
    )
