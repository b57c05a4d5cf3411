"""The kiosk window's door output end to end: real photos, the real engine, and an HTTP relay on
loopback that the settings choose."""

from __future__ import annotations

import shutil
from dataclasses import replace

from faceguard.app.kiosk.banner import Screen
from faceguard.app.settings import save_settings
from faceguard.store.repository import Store
from tests.gui.test_kiosk import DATA, DECISION_TIMEOUT_MS, at_door, door, open_kiosk
from tests.test_door_http import relay

__all__ = ["door", "open_kiosk", "relay"]  # fixtures of the kiosk and relay tests


def test_a_granted_person_opens_the_door_for_the_pulse(qtbot, door, open_kiosk, relay):
    db, camera = door
    shutil.copy(DATA / "obama2.jpg", camera)
    settings = at_door(camera)
    settings = replace(settings, door_driver="http", door_address=relay.url + "/{state}", door_pulse=1.0)
    window = open_kiosk(db, settings)
    qtbot.waitUntil(lambda: window.current_banner.screen is Screen.GRANTED, timeout=DECISION_TIMEOUT_MS)
    qtbot.waitUntil(lambda: relay.paths[:3] == ["/off", "/on", "/off"], timeout=5_000)  # locked, pulse, re-locked
    window.close()
    with Store.open(db) as store:
        [event] = store.events()
    assert event.message == "Access granted: Barack Obama. Door unlocked for 1 s."
    assert relay.paths[-1] == "/off"  # locked on close


def test_a_broken_relay_shows_the_door_out_of_service_and_still_grants(qtbot, door, open_kiosk, relay):
    db, camera = door
    shutil.copy(DATA / "obama2.jpg", camera)
    relay.status = 503
    settings = replace(at_door(camera), door_driver="http", door_address=relay.url + "/{state}")
    window = open_kiosk(db, settings)
    qtbot.waitUntil(lambda: "OUT OF SERVICE" in window.notice.text(), timeout=DECISION_TIMEOUT_MS)
    assert "answered 503" in window.notice.text()
    qtbot.waitUntil(lambda: window.current_banner.screen is Screen.GRANTED, timeout=DECISION_TIMEOUT_MS)
    window.close()
    with Store.open(db) as store:
        [event] = store.events()
    assert event.decision == "granted" and "The door did not open" in event.message


def test_a_door_output_saved_while_the_kiosk_runs_is_taken_up_and_locked(qtbot, door, open_kiosk, relay):
    db, camera = door
    settings = at_door(camera)
    with Store.open(db) as store:
        save_settings(store, settings)
    window = open_kiosk(db, settings)
    qtbot.waitUntil(lambda: window.model.starting is None, timeout=DECISION_TIMEOUT_MS)  # the engine runs
    with Store.open(db) as store:
        save_settings(store, replace(settings, door_driver="http", door_address=relay.url + "/{state}"))
    qtbot.waitUntil(lambda: relay.paths == ["/off"], timeout=DECISION_TIMEOUT_MS)  # locked when taken up
    shutil.copy(DATA / "obama2.jpg", camera)
    qtbot.waitUntil(lambda: "/on" in relay.paths, timeout=DECISION_TIMEOUT_MS)
