"""The kiosk engine with liveness checks on real photos: a recognised face is challenged at once, a
still photo is never granted and never opens the door, and every outcome is in the access log."""

from __future__ import annotations

import random

from faceguard.access.liveness import ChallengeConfig, LivenessMode, Move
from faceguard.access.policy import Outcome
from faceguard.app.kiosk.liveness import LivenessGate
from faceguard.app.kiosk.results import FaceState
from faceguard.app.kiosk.session import KioskEngine
from faceguard.app.site_threshold import SiteThreshold
from faceguard.door.driver import Door
from faceguard.door.recording import RecordingDriver
from faceguard.matching.calibration import DEFAULT_MAX_FPIR
from tests.clock_helpers import ManualClock
from tests.test_door import ManualTimer
from tests.test_kiosk_engine import CONFIG, DOOR, STEP, obama, scene
from tests.test_kiosk_engine import Door as Camera

__all__ = ["obama", "scene"]  # the engine tests' fixtures

TIMEOUT = 3.0


def active_engine(pipeline, store, driver: RecordingDriver) -> KioskEngine:
    clock = ManualClock()
    rule = SiteThreshold.for_model(pipeline.spec, DEFAULT_MAX_FPIR)
    door = Door(driver, 4, clock=clock, timer=ManualTimer(clock))
    gate = LivenessGate(LivenessMode.ACTIVE, ChallengeConfig(timeout=TIMEOUT), rng=random.Random(1))
    return KioskEngine.open(pipeline, store, CONFIG, DOOR, rule, clock, door_output=door, liveness=gate)


def test_a_still_photo_is_challenged_never_granted_and_logged_as_not_live(pipeline, store, obama, scene):
    driver = RecordingDriver()
    camera = Camera(active_engine(pipeline, store, driver))
    results = camera.show(scene["obama2"], int(TIMEOUT / STEP) + 3)
    first_prompt = results[0].challenges
    assert len(first_prompt) == 1 and first_prompt[0].move in (Move.TURN_LEFT, Move.TURN_RIGHT)
    assert results[0].faces[0].state is FaceState.CHECKING and results[0].faces[0].label == first_prompt[0].move.prompt
    assert first_prompt[0].seconds_left == TIMEOUT
    assert results[8].challenges[0].seconds_left == TIMEOUT - 8 * STEP  # the countdown
    [(index, shown)] = camera.decisions()
    assert shown.decision.outcome is Outcome.NOT_LIVE and not shown.decision.granted
    assert index * STEP > TIMEOUT
    assert shown.decision.message.startswith("Barack Obama: Liveness check failed: no head turn to the")
    assert not driver.unlocked and driver.calls == [("off", False, None)]
    assert not results[-1].challenges
    assert (results[-1].faces[0].state, results[-1].faces[0].label) == (FaceState.REFUSED, "Liveness check failed")
    [event] = store.events()
    assert (event.decision, event.reason, event.liveness, event.liveness_passed) == (
        "denied",
        "not_live",
        "active",
        False,
    )
    assert event.liveness_motion is not None and event.liveness_motion < 0.05  # a photo's nose never leaves its plane
    assert event.live_score is None and event.door_action is None and event.has_snapshot


def test_a_face_that_leaves_during_its_challenge_is_logged_as_not_live(pipeline, store, obama, scene):
    driver = RecordingDriver()
    camera = Camera(active_engine(pipeline, store, driver))
    camera.show(scene["obama2"], 4)  # recognised (3 votes), challenged, then gone
    camera.show(scene["coffee"], 8)
    [(_, shown)] = camera.decisions()
    assert shown.decision.outcome is Outcome.NOT_LIVE
    assert shown.decision.message == "Barack Obama: The face left before the liveness check ended."
    assert not driver.unlocked
    [event] = store.events()
    assert (event.reason, event.liveness_passed) == ("not_live", False)


def test_a_stranger_is_not_challenged_and_is_told_at_once(pipeline, store, obama, scene):
    camera = Camera(active_engine(pipeline, store, RecordingDriver()))
    results = camera.show(scene["collins"], 4)
    assert not any(r.challenges for r in results)
    [(index, shown)] = camera.decisions()
    assert shown.decision.outcome is Outcome.UNKNOWN and index == 2
    [event] = store.events()
    assert event.liveness is None  # nothing was checked


def test_with_liveness_off_the_engine_grants_without_a_challenge(pipeline, store, obama, scene):
    clock = ManualClock()
    rule = SiteThreshold.for_model(pipeline.spec, DEFAULT_MAX_FPIR)
    gate = LivenessGate(LivenessMode.OFF)
    camera = Camera(KioskEngine.open(pipeline, store, CONFIG, DOOR, rule, clock, liveness=gate))
    results = camera.show(scene["obama2"], 3)
    assert not any(r.challenges for r in results)
    assert results[2].decisions[0].decision.granted
