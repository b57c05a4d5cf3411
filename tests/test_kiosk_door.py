"""The kiosk engine's door output on real photos: a GRANTED decision unlocks the door, a denied or
unknown one does not, every unlock and door error is in the access log's message, and a broken relay
never changes a decision."""

from __future__ import annotations

import pytest

from faceguard.access.policy import Outcome
from faceguard.app.enrollment import enroll_photo
from faceguard.app.kiosk.session import KioskEngine
from faceguard.app.site_threshold import SiteThreshold
from faceguard.door.driver import Door, DoorDriver, DoorState
from faceguard.door.osdp_reader import OsdpReaderDriver
from faceguard.door.recording import RecordingDriver
from faceguard.matching.calibration import DEFAULT_MAX_FPIR
from tests.clock_helpers import ManualClock
from tests.test_door import ManualTimer
from tests.test_door_osdp import Line, decode_h10301, line
from tests.test_kiosk_engine import CONFIG, DOOR, obama, scene
from tests.test_kiosk_engine import Door as Camera

__all__ = ["line", "obama", "scene"]  # the engine tests' fixtures and the OSDP line


def door_engine(pipeline, store, driver: DoorDriver) -> KioskEngine:
    clock = ManualClock()
    rule = SiteThreshold.for_model(pipeline.spec, DEFAULT_MAX_FPIR)
    door = Door(driver, 4, clock=clock, timer=ManualTimer(clock))
    return KioskEngine.open(pipeline, store, CONFIG, DOOR, rule, clock, door_output=door)


def test_a_granted_decision_unlocks_the_door_and_the_log_says_so(pipeline, store, obama, scene):
    driver = RecordingDriver()
    camera = Camera(door_engine(pipeline, store, driver))
    assert driver.calls == [("off", False, None)]  # locked on start
    results = camera.show(scene["obama2"], 3)
    [shown] = results[2].decisions
    assert shown.decision.outcome is Outcome.GRANTED
    assert shown.decision.message == "Access granted: Barack Obama."  # the banner's words are unchanged
    assert driver.unlocked and driver.calls[-1] == ("on", True, None)
    [event] = store.events()
    assert (event.decision, event.message) == ("granted", "Access granted: Barack Obama. Door unlocked for 4 s.")
    assert event.door_action == "Door unlocked for 4 s." and event.liveness is None
    assert all(r.door_problem is None for r in results)


def test_an_osdp_panel_is_told_the_granted_persons_badge(pipeline, store, photo, scene, line: Line):
    enroll_photo(store, pipeline, photo("obama.jpg"), "Barack Obama", "photo:obama.jpg", badge="12:34567")
    line.start_panel()
    camera = Camera(door_engine(pipeline, store, OsdpReaderDriver(f"{line.port}@1")))
    camera.show(scene["obama2"], 3)
    camera.engine.close_door()
    [read] = line.card_reads(wait=2)
    assert decode_h10301(read["data"], read["length"]) == (12, 34567)
    [event] = store.events()
    assert (event.decision, event.door_action) == ("granted", "Door unlocked for 4 s.")


@pytest.mark.parametrize("who", ["collins", "deactivated"])
def test_a_stranger_or_a_denied_person_does_not_unlock_the_door(pipeline, store, photo, scene, who):
    if who == "deactivated":
        enroll_photo(store, pipeline, photo("obama.jpg"), "Barack Obama", "photo:obama.jpg", active=False)
    driver = RecordingDriver()
    camera = Camera(door_engine(pipeline, store, driver))
    camera.show(scene["collins" if who == "collins" else "obama2"], 5)
    [(_, shown)] = camera.decisions()
    assert shown.decision.outcome in (Outcome.UNKNOWN, Outcome.INACTIVE)
    assert driver.calls == [("off", False, None)] and not driver.unlocked
    [event] = store.events()
    assert "Door" not in event.message and "door" not in event.message


def test_a_broken_relay_keeps_the_decision_and_the_door_locked_and_says_so(pipeline, store, obama, scene):
    driver = RecordingDriver()
    engine = door_engine(pipeline, store, driver)
    camera = Camera(engine)
    driver.fail = "no answer"
    results = camera.show(scene["obama2"], 4)
    [shown] = results[2].decisions
    assert shown.decision.outcome is Outcome.GRANTED
    assert not driver.unlocked and engine.door_output is not None
    assert engine.door_output.state is DoorState.OUT_OF_SERVICE
    assert results[1].door_problem is None
    assert results[2].door_problem is not None and "OUT OF SERVICE" in results[2].door_problem
    assert "no answer" in results[3].door_problem
    [event] = store.events()
    assert event.message.startswith("Access granted: Barack Obama. The door did not open: The door is OUT OF SERVICE")


def test_without_a_door_output_nothing_changes(pipeline, store, obama, scene):
    clock = ManualClock()
    rule = SiteThreshold.for_model(pipeline.spec, DEFAULT_MAX_FPIR)
    camera = Camera(KioskEngine.open(pipeline, store, CONFIG, DOOR, rule, clock))
    camera.show(scene["obama2"], 3)
    [event] = store.events()
    assert event.message == "Access granted: Barack Obama."


def test_the_engine_locks_the_door_when_the_kiosk_stops(pipeline, store, obama, scene):
    driver = RecordingDriver()
    engine = door_engine(pipeline, store, driver)
    Camera(engine).show(scene["obama2"], 3)
    engine.close_door()
    assert not driver.unlocked and driver.closed and engine.door_output is None
