"""The kiosk engine's rate limit on real photos: someone holding up one face after another in the same
place is refused max_denials times, then that face box is paused — not encoded, labelled with the wait
on its box and the banner, one alert in the access log — and judged afresh when the pause ends."""

from __future__ import annotations

import random

import numpy as np

from faceguard.access.liveness import ChallengeConfig, LivenessMode
from faceguard.access.policy import Outcome
from faceguard.access.rate_limit import RateLimitConfig
from faceguard.app.kiosk.banner import PAUSED_TITLE, BannerModel, Screen
from faceguard.app.kiosk.liveness import LivenessGate
from faceguard.app.kiosk.results import FaceState
from faceguard.app.kiosk.session import KioskEngine
from faceguard.app.site_threshold import SiteThreshold
from faceguard.matching.calibration import DEFAULT_MAX_FPIR
from tests.clock_helpers import ManualClock
from tests.test_kiosk_engine import CONFIG, DOOR, obama, outcomes, scene
from tests.test_kiosk_engine import Door as Camera

__all__ = ["obama", "scene"]  # the engine tests' fixtures

PAUSE = 2.0  # seconds: 16 frames at STEP
LIMIT = RateLimitConfig(max_denials=3, window=60.0, pause=PAUSE)
ALERT = f"Too many denied attempts by one face: recognition paused for {PAUSE:g} s."


def open_engine(pipeline, store, liveness=None, rate_limit=LIMIT):
    rule = SiteThreshold.for_model(pipeline.spec, DEFAULT_MAX_FPIR)
    return KioskEngine.open(
        pipeline, store, CONFIG, DOOR, rule, ManualClock(), liveness=liveness, rate_limit=rate_limit
    )


def counting_encoder(pipeline, camera, monkeypatch):
    """The frame indexes at which the face encoder ran, one entry per face."""
    ran, encode = [], pipeline.encode
    monkeypatch.setattr(pipeline, "encode", lambda chips: ran.extend([camera.index] * len(chips)) or encode(chips))
    return ran


def test_a_box_refused_three_times_is_paused_unencoded_alerted_once_and_judged_afresh(
    pipeline, store, obama, scene, monkeypatch
):
    """Collins, Biden, Collins held up in turn in one place (no gap): each swap restarts the track and is
    refused as UNKNOWN k frames later; the third refusal pauses the box. For PAUSE seconds its faces —
    even Obama's, enrolled — run no encoder and decide nothing, its box and the banner count the wait
    down; one RATE_LIMITED alert (denied, with the face's snapshot) is logged. When the pause ends the box
    is judged afresh under a new track id and Obama is granted."""
    engine = open_engine(pipeline, store)
    camera = Camera(engine)
    banner = BannerModel(engine.clock)
    banner.engine_ready()
    encoded = counting_encoder(pipeline, camera, monkeypatch)
    for name in ("collins", "biden", "collins"):
        camera.show(scene[name], 3)  # frames 0-2, 3-5, 6-8
    assert outcomes(camera) == [
        (2, Outcome.UNKNOWN),
        (5, Outcome.UNKNOWN),
        (8, Outcome.UNKNOWN),
        (8, Outcome.RATE_LIMITED),
    ]
    assert encoded == list(range(9))
    [box] = {track.box_id for track in engine.tracker.tracks.values()}
    assert [r.faces[0].track_id for r in camera.results] == [1] * 3 + [2] * 3 + [3] * 3  # one box, three faces
    alert = camera.decisions()[-1][1]
    assert (alert.decision.person, alert.decision.message, alert.thumbnail) == (None, ALERT, None)

    paused = camera.show(scene["collins"], 4) + camera.show(scene["obama2"], 11)  # frames 9-23: t 1.125 .. 2.875
    results = camera.results[8:24]  # the pause: from frame 8 (t 1.0) to t 3.0
    assert encoded == list(range(9))  # no face encoded while paused
    assert not [d for r in paused for d in r.decisions]
    assert {(f.track_id, f.state) for r in results for f in r.faces} == {(3, FaceState.PAUSED)}
    labels = [r.faces[0].label for r in results]
    assert labels[0] == labels[7] == "Too many attempts: wait 2 s"  # 2.0 and 1.125 s left
    assert labels[8] == labels[15] == "Too many attempts: wait 1 s"  # 1.0 and 0.125 s left
    for result in results:
        banner.frame_result(result)
        shown = banner.banner("Site")
        assert (shown.screen, shown.title, shown.detail) == (Screen.DENIED, PAUSED_TITLE, result.faces[0].label)

    after = camera.show(scene["obama2"], 4)  # frames 24-27 from t 3.0: the pause has ended
    assert encoded == list(range(9)) + [24, 25, 26]  # then granted: rechecked after RECHECK s only
    assert [(f.track_id, f.label, f.state) for f in after[0].faces] == [(5, "Barack Obama", FaceState.KNOWN)]
    assert outcomes(camera)[4:] == [(26, Outcome.GRANTED)]
    assert {track.box_id for track in engine.tracker.tracks.values()} == {box}

    events = store.events(newest_first=False)
    assert [(e.decision, e.reason) for e in events] == [("unknown", "unknown")] * 3 + [
        ("denied", "rate_limited"),
        ("granted", "granted"),
    ]
    logged = events[3]
    assert (logged.message, logged.person_id, logged.door, logged.time) == (ALERT, None, DOOR, camera.frames[8].wall)
    assert logged.has_snapshot and store.event_snapshot(logged.id)[:2] == b"\xff\xd8"


def test_a_pause_is_per_box_and_the_default_is_thirty_seconds(pipeline, store, obama, scene):
    """The same probing beside an enrolled person: only the prober's box is paused (with the default
    rule's 30 s), Obama's keeps its name and is granted."""
    engine = open_engine(pipeline, store, rate_limit=None)
    camera = Camera(engine)
    for name in ("collins", "biden", "collins"):
        camera.show(np.ascontiguousarray(np.hstack([scene["obama2"], scene[name]])), 3)
    assert outcomes(camera).count((2, Outcome.GRANTED)) == 1
    [(index, alert)] = [(i, d) for i, d in camera.decisions() if d.decision.outcome is Outcome.RATE_LIMITED]
    assert index == 8
    assert alert.decision.message == "Too many denied attempts by one face: recognition paused for 30 s."
    faces = sorted(camera.results[-1].faces, key=lambda f: f.box[0])
    assert [(f.label, f.state) for f in faces] == [
        ("Barack Obama", FaceState.KNOWN),
        ("Too many attempts: wait 30 s", FaceState.PAUSED),
    ]
    assert [e.reason for e in store.events(newest_first=False)].count("rate_limited") == 1


def test_a_photo_failing_the_liveness_check_counts_as_a_refusal(pipeline, store, obama, scene):
    """With active liveness: a still photo of Obama is refused as NOT_LIVE once its challenge times out;
    two strangers' faces held up in the same place after it are the second and third refusals."""
    gate = LivenessGate(LivenessMode.ACTIVE, ChallengeConfig(timeout=1.0), rng=random.Random(1))
    camera = Camera(open_engine(pipeline, store, liveness=gate))
    camera.show(scene["obama2"], 12)  # challenged from frame 0, refused once 1 s has passed
    camera.show(scene["collins"], 11)  # the decided box is rechecked every RECHECK s: the swap is seen then
    camera.show(scene["biden"], 3)
    found = [outcome for _, outcome in outcomes(camera)]
    assert found == [Outcome.NOT_LIVE, Outcome.UNKNOWN, Outcome.UNKNOWN, Outcome.RATE_LIMITED]
    assert camera.results[-1].faces[0].state is FaceState.PAUSED
    assert [e.reason for e in store.events(newest_first=False)] == ["not_live", "unknown", "unknown", "rate_limited"]


def test_a_rate_limit_saved_by_the_admin_applies_from_the_next_frame(pipeline, store, scene):
    """The kiosk follows the settings: reconfigured to pause after one refusal, the first unknown face's
    box is paused at once (the counts start afresh under the new rule)."""
    engine = open_engine(pipeline, store)
    engine.reconfigure(CONFIG, DOOR, engine.threshold_rule, RateLimitConfig(max_denials=1, pause=PAUSE))
    camera = Camera(engine)
    camera.show(scene["collins"], 3)
    assert outcomes(camera) == [(2, Outcome.UNKNOWN), (2, Outcome.RATE_LIMITED)]
