"""The settings page's Door group: the door output's fields stored and checked, and "Test the door"
against an HTTP relay and an MQTT broker on loopback and an OSDP panel on a pty pair."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from faceguard.app.settings import DOOR_DRIVERS, KioskSettings, load_settings, save_settings
from faceguard.gui.admin.settings_page import SettingsPage
from tests.gui.test_settings_page import make_page, no_exported_models
from tests.test_door_http import Relay, relay
from tests.test_door_mqtt import MOSQUITTO, Broker, broker
from tests.test_door_mqtt import Relay as MqttSubscriber
from tests.test_door_osdp import Line, line

# fixtures of the settings page, HTTP relay, MQTT broker and OSDP line tests
__all__ = ["broker", "line", "make_page", "no_exported_models", "relay"]


def _choose(page: SettingsPage, driver: str, address: str) -> None:
    page.door_driver.setCurrentIndex(page.door_driver.findData(driver))
    page.door_address.setText(address)


def test_the_door_fields_are_shown_stored_and_reverted(store, make_page):
    stored = KioskSettings(
        door_driver="serial", door_address="/dev/ttyUSB0", door_pulse=6.0, door_polarity="energise-to-lock"
    )
    save_settings(store, stored)
    page = make_page()
    assert page.door_group.title() == "Door"
    assert (page.door_driver.currentData(), page.door_address.text()) == ("serial", "/dev/ttyUSB0")
    assert (page.door_pulse.value(), page.door_polarity.currentData()) == (6.0, "energise-to-lock")
    assert "/dev/ttyUSB0" in page.door_address_hint.text()
    _choose(page, "shelly", "http://10.0.0.5")
    page.door_pulse.setValue(3.0)
    page.save()
    assert load_settings(store) == replace(stored, door_driver="shelly", door_address="http://10.0.0.5", door_pulse=3.0)
    _choose(page, "none", "")
    assert not page.door_address.isEnabled() and not page.test_door_button.isEnabled()
    page.revert()
    assert page.door_driver.currentData() == "shelly" and page.test_door_button.isEnabled()


def test_a_webhook_without_state_is_refused_on_save(store, make_page):
    page = make_page()
    _choose(page, "http", "http://relay/open")
    page.save()
    assert page.message.isVisible() and "{state}" in page.message.text()
    assert load_settings(store).door_driver == "none"


def test_test_the_door_pulses_the_door_as_entered_once(qtbot, make_page, relay: Relay):
    page = make_page()
    _choose(page, "http", relay.url + "/{state}")
    page.door_pulse.setValue(1.0)
    qtbot.mouseClick(page.test_door_button, Qt.MouseButton.LeftButton)
    assert not page.test_door_button.isEnabled() and "Unlocking for 1 s" in page.door_test_result.text()
    qtbot.waitUntil(lambda: page.test_door_button.isEnabled(), timeout=10_000)
    assert page.door_test_result.text() == "The door unlocked for 1 s and is locked again."
    assert relay.paths == ["/off", "/on", "/off", "/off"]  # locked, pulse, re-locked after it, locked on closing


def test_a_failing_door_test_says_why(qtbot, make_page, relay: Relay):
    relay.status = 500
    page = make_page()
    _choose(page, "shelly", relay.url)
    qtbot.mouseClick(page.test_door_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.test_door_button.isEnabled(), timeout=10_000)
    text = page.door_test_result.text()
    assert relay.paths and set(relay.paths) == {"/relay/0?turn=off"}  # only ever told to lock, never to open
    assert text.startswith("The door test failed: The door is OUT OF SERVICE") and "answered 500" in text


def test_each_door_output_has_its_name_and_its_own_address_hint(make_page):
    page = make_page()
    hints = {}
    for driver in DOOR_DRIVERS:
        page.door_driver.setCurrentIndex(page.door_driver.findData(driver))
        assert page.door_driver.currentData() == driver and page.door_driver.currentText()
        hints[driver] = page.door_address_hint.text()
    assert len(set(hints.values())) == len(DOOR_DRIVERS)
    assert "GPIO17" in hints["gpio"] and "mqtt://" in hints["mqtt"] and "/dev/ttyUSB0@1" in hints["osdp"]


@pytest.mark.skipif(MOSQUITTO is None, reason="the mosquitto broker is not installed (apt-get install mosquitto)")
def test_test_the_door_pulses_an_mqtt_relay_that_times_the_pulse_itself(qtbot, make_page, broker: Broker):
    subscriber = MqttSubscriber(broker)
    try:
        page = make_page()
        _choose(page, "mqtt", broker.url())
        page.door_pulse.setValue(1.0)
        qtbot.mouseClick(page.test_door_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.test_door_button.isEnabled(), timeout=10_000)
        assert page.door_test_result.text() == "The door unlocked for 1 s and is locked again."
        assert subscriber.wait_for(3) == [  # locked, a pulse the relay times, locked on closing
            {"id": 0, "on": False},
            {"id": 0, "on": True, "toggle_after": 1.0},
            {"id": 0, "on": False},
        ]
    finally:
        subscriber.close()


def test_test_the_door_on_an_osdp_line_says_the_panel_polls_but_has_no_badge(qtbot, make_page, line: Line):
    line.start_panel()
    page = make_page()
    _choose(page, "osdp", f"{line.port}@1")
    qtbot.mouseClick(page.test_door_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.test_door_button.isEnabled(), timeout=10_000)
    assert "the access panel polls this reader, but there is no badge" in page.door_test_result.text()
    assert line.card_reads(wait=0.5) == []
