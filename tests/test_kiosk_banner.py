"""The kiosk's status banner on a manual clock: priorities, how long a decision stays, the idle clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from faceguard.access.liveness import Move
from faceguard.access.policy import Decision, Outcome, PersonStatus
from faceguard.app.kiosk.banner import HOLD, IDLE_AFTER, PAUSED_TITLE, Banner, BannerModel, Screen
from faceguard.app.kiosk.results import DecisionView, FaceState, FaceView, FrameResult
from tests.clock_helpers import ManualClock

SITE = "Test site"
ADA = PersonStatus(1, "Ada Lovelace", True, None, None)
BOX = (10.0, 10.0, 110.0, 110.0)
LEFT_PROMPT = Move.TURN_LEFT.prompt


def result(faces=(), decisions=()) -> FrameResult:
    return FrameResult(0, 0.0, tuple(faces), tuple(decisions), {})


def face(track_id=1, state=FaceState.PENDING, label="") -> FaceView:
    return FaceView(track_id, BOX, label, state)


def granted(clock, track_id=1) -> DecisionView:
    decision = Decision(Outcome.GRANTED, clock.wall(), track_id, ADA, 0.3, 0.6, "Access granted: Ada Lovelace.")
    return DecisionView(decision, b"\xff\xd8", 0.4)


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def model(clock):
    model = BannerModel(clock)
    model.engine_ready()
    return model


def test_idle_shows_the_local_time_of_the_wall_clock_and_the_site(clock, model):
    expected = clock.wall().astimezone().strftime("%H:%M")
    assert model.banner(SITE) == Banner(Screen.IDLE, expected, f"{SITE} — look at the camera to enter")
    clock.set_wall(clock.wall() + timedelta(hours=2, minutes=5))
    assert model.banner(SITE).title == clock.wall().astimezone().strftime("%H:%M")


def test_failure_comes_before_offline_before_starting():
    model = BannerModel(ManualClock())
    assert model.banner(SITE).screen is Screen.STARTING
    model.camera_status("Camera offline: gone.")
    assert model.banner(SITE).screen is Screen.OFFLINE
    model.engine_failed("broken")
    assert model.banner(SITE) == Banner(Screen.FAILED, "OUT OF SERVICE", "broken")


def test_a_face_is_checked_and_only_poor_faces_get_their_hint(clock, model):
    model.frame_result(result([face()]))
    assert model.banner(SITE).screen is Screen.CHECKING
    model.frame_result(result([face(state=FaceState.POOR, label="Come closer")]))
    assert model.banner(SITE) == Banner(Screen.LOOK, "Come closer")
    model.frame_result(result([face(1, FaceState.POOR, "Come closer"), face(2, FaceState.UNKNOWN, "Unknown")]))
    assert model.banner(SITE).screen is Screen.CHECKING
    clock.advance(IDLE_AFTER)  # no face reported for IDLE_AFTER seconds
    assert model.banner(SITE).screen is Screen.IDLE


def test_a_decision_stays_hold_seconds_and_as_long_as_its_face_is_in_view(clock, model):
    view = granted(clock)
    model.frame_result(result([face(1, FaceState.KNOWN, "Ada Lovelace")], [view]))
    assert model.banner(SITE) == Banner(Screen.GRANTED, "ACCESS GRANTED", "Ada Lovelace", b"\xff\xd8")
    clock.advance(HOLD + 1)
    model.frame_result(result([face(1, FaceState.KNOWN, "Ada Lovelace")]))  # still at the door
    assert model.banner(SITE).screen is Screen.GRANTED
    model.frame_result(result([face(2)]))  # someone else
    assert model.banner(SITE).screen is Screen.CHECKING


def test_a_step_of_the_wall_clock_neither_ends_nor_prolongs_a_decision(clock, model):
    model.frame_result(result([], [granted(clock)]))
    clock.set_wall(clock.wall() + timedelta(hours=1))
    clock.advance(HOLD - 0.125)
    assert model.banner(SITE).screen is Screen.GRANTED
    clock.set_wall(clock.wall() - timedelta(hours=3))
    clock.advance(0.125)
    assert model.banner(SITE).screen is Screen.IDLE


def test_a_challenged_face_gets_its_prompt_on_the_banner(model):
    model.frame_result(result([face(2, FaceState.UNKNOWN, "Unknown"), face(1, FaceState.CHECKING, LEFT_PROMPT)]))
    assert model.banner(SITE) == Banner(Screen.CHECKING, "Checking…", LEFT_PROMPT)


def test_a_failed_liveness_check_is_denied_without_the_name_or_the_enrolled_face(clock, model):
    message = "Ada Lovelace: Liveness check failed: no head turn to the left within 5 s."
    decision = Decision(Outcome.NOT_LIVE, clock.wall(), 1, ADA, 0.3, 0.6, message)
    model.frame_result(result([face(1, FaceState.KNOWN, "Ada Lovelace")], [DecisionView(decision, b"\xff\xd8", 5.2)]))
    assert model.banner(SITE) == Banner(
        Screen.DENIED, "ACCESS DENIED", "Liveness check failed: no head turn to the left within 5 s."
    )


def test_a_paused_face_shows_its_wait_and_a_granted_face_beside_it_comes_first(clock, model):
    """The alert's face is paused: its countdown (the box's label) replaces the alert; once that face is
    gone the alert's message stays HOLD seconds. A decision about another face still comes first."""
    message = "Too many denied attempts by one face: recognition paused for 30 s."
    alert = DecisionView(Decision(Outcome.RATE_LIMITED, clock.wall(), 2, None, None, None, message), None, 1.0)
    wait = face(2, FaceState.PAUSED, "Too many attempts: wait 30 s")
    model.frame_result(result([wait], [alert]))
    assert model.banner(SITE) == Banner(Screen.DENIED, PAUSED_TITLE, "Too many attempts: wait 30 s")
    clock.advance(IDLE_AFTER)  # the face has gone, the alert is younger than HOLD
    assert model.banner(SITE) == Banner(Screen.DENIED, PAUSED_TITLE, message)
    model.frame_result(result([wait, face(3, FaceState.KNOWN, "Ada Lovelace")], [granted(clock, 3)]))
    assert model.banner(SITE).screen is Screen.GRANTED
    clock.advance(HOLD)
    model.frame_result(result([wait]))
    assert model.banner(SITE).title == PAUSED_TITLE
