"""The kiosk's door output, built from its settings (``door_driver`` and the fields after it)."""

from __future__ import annotations

from faceguard.app.settings import KioskSettings
from faceguard.door.driver import Door, DoorDriver, Polarity
from faceguard.door.gpio_relay import GpioRelayDriver
from faceguard.door.http_relay import HttpRelayDriver
from faceguard.door.mqtt_relay import MqttRelayDriver
from faceguard.door.osdp_reader import OsdpReaderDriver
from faceguard.door.serial_relay import SerialRelayDriver


def door_driver(settings: KioskSettings) -> DoorDriver | None:
    """The driver the settings choose; None when the kiosk has no door output."""
    polarity = Polarity(settings.door_polarity)
    address = settings.door_address.strip()
    if settings.door_driver == "http":
        return HttpRelayDriver.webhook(address, polarity)
    if settings.door_driver == "shelly":
        return HttpRelayDriver.shelly_relay(address, polarity)
    if settings.door_driver == "serial":
        return SerialRelayDriver(address, polarity)
    if settings.door_driver == "gpio":
        return GpioRelayDriver(address, polarity)
    if settings.door_driver == "mqtt":
        return MqttRelayDriver(address, polarity)
    if settings.door_driver == "osdp":
        return OsdpReaderDriver(address)  # the panel drives its own lock: no polarity here
    return None


def door_output(settings: KioskSettings) -> Door | None:
    """The Door for the settings, not yet started (``Door.start`` locks it); None without a door output."""
    driver = door_driver(settings)
    return None if driver is None else Door(driver, settings.door_pulse)


def door_settings_changed(old: KioskSettings, new: KioskSettings) -> bool:
    fields = ("door_driver", "door_address", "door_pulse", "door_polarity")
    return any(getattr(old, name) != getattr(new, name) for name in fields)
