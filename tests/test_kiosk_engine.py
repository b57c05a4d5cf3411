"""KioskEngine on real photos, the real pipeline and a real SQLite store: frames in, faces and
access decisions out, every decision in the access log.

Frames are real photos cropped around the face to 400×400 (the face ~200 px wide in the middle), so
two people's crops put their faces in the same place. Time is a manual clock (no test sleeps or
depends on the machine's speed): frames are captured 1/8 s apart and each is processed LAG after its
capture, so time arithmetic in the engine is exact (RECHECK and cooldown boundaries are not blurred
by float rounding).
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, date, datetime

import cv2
import numpy as np
import pytest

from faceguard.access.policy import Outcome, PolicyConfig
from faceguard.app.enrollment import enroll_photo, prepare_template
from faceguard.app.kiosk import session as kiosk_engine
from faceguard.app.kiosk.banner import BannerModel, Screen
from faceguard.app.kiosk.session import KioskEngine
from faceguard.app.reencode import reencode
from faceguard.app.site_threshold import SiteThreshold
from faceguard.matching.calibration import DEFAULT_MAX_FPIR
from faceguard.store.repository import Store
from faceguard.vision.camera import Frame
from faceguard.vision.image_io import read_image
from tests.clock_helpers import ManualClock
from tests.model_helpers import load_tiny
from tests.store_helpers import new_template

STEP = 0.125
#: Seconds from a frame's capture to its processing (the engine's clock reads this much later).
LAG = 0.03125
DOOR = "front door"
CONFIG = PolicyConfig(k=3, n=5, cooldown=3.0)


@pytest.fixture(scope="module")
def scene(pipeline, photo):
    """400×400 RGB frames: each person's face centred and ~200 px wide; ``coffee`` has no face."""

    def crop(name):
        image = photo(name)
        x1, y1, x2, y2 = pipeline.single_face(image).box
        side = 2.0 * (x2 - x1)
        left, top = int((x1 + x2 - side) / 2), int((y1 + y2 - side) / 2)
        cut = image[top : top + int(side), left : left + int(side)]
        return cv2.resize(cut, (400, 400), interpolation=cv2.INTER_AREA)

    frames = {name.split(".")[0]: crop(name) for name in ("obama2.jpg", "biden.jpg", "collins.png")}
    frames["coffee"] = cv2.resize(photo("coffee.jpg"), (400, 400), interpolation=cv2.INTER_AREA)
    frames["blurred"] = cv2.GaussianBlur(frames["obama2"], (0, 0), 5)
    tiny = np.full_like(frames["obama2"], 120)
    tiny[150:230, 150:230] = cv2.resize(frames["obama2"], (80, 80), interpolation=cv2.INTER_AREA)
    frames["tiny"] = tiny  # a face ~45 px wide: below the kiosk's 60 px
    for image in frames.values():
        image.setflags(write=False)
    return frames


@pytest.fixture
def obama(store, pipeline, photo):
    """Barack Obama enrolled from obama.jpg (the kiosk sees obama2.jpg, another photo of him)."""
    return enroll_photo(store, pipeline, photo("obama.jpg"), "Barack Obama", "photo:obama.jpg")


class Door:
    """Feeds frames to an engine on its manual clock, captured ``step`` seconds apart and each
    processed LAG after its capture; remembers every frame, result, and the frames whose face was
    encoded (looked at: a track's ``encoded_at`` is that frame's time)."""

    def __init__(self, engine, step=STEP):
        self.engine, self.clock, self.step = engine, engine.clock, step
        self.index = 0
        self.frames, self.results, self.encoded = [], [], []

    def show(self, image, frames=1):
        out = []
        for _ in range(frames):
            frame = Frame.capture(image, self.index, self.clock)
            self.clock.advance(LAG)
            out.append(self.engine.process(frame))
            self.clock.advance(self.step - LAG)
            if any(t.encoded_at == frame.monotonic for t in self.engine.tracker.tracks.values()):
                self.encoded.append(frame.index)
            self.frames.append(frame)
            self.index += 1
        self.results += out
        return out

    def wait(self, seconds):
        """Nobody in front of the camera for ``seconds`` (the kiosk sees no frame meanwhile)."""
        self.clock.advance(seconds)

    def decisions(self):
        return [(r.frame_index, d) for r in self.results for d in r.decisions]


def open_engine(pipeline, store, config=CONFIG, threshold=None):
    """The engine on a manual clock, with the site's derived threshold (the default target) or a
    fixed ``threshold``."""
    rule = SiteThreshold.for_model(pipeline.spec, DEFAULT_MAX_FPIR, threshold)
    return KioskEngine.open(pipeline, store, config, DOOR, rule, ManualClock())


def outcomes(door):
    return [(i, d.decision.outcome) for i, d in door.decisions()]


def enrolled_jpeg(store, person_id):
    return store.thumbnail(store.templates(person_id)[0].id).jpeg


def test_an_enrolled_person_is_granted_once_after_k_frames_and_the_event_is_logged(pipeline, store, obama, scene):
    """Frames of obama2 (enrolled from obama.jpg): labelled "Barack Obama"/known from the first frame,
    exactly one GRANTED on the k-th frame (none before or after), logged with door, model, distance
    below the threshold, a JPEG snapshot and the latency (from the face's first capture to the
    decision); the banner gets the enrolled face JPEG. The decision and the event are dated by the
    deciding frame's wall time."""
    engine = open_engine(pipeline, store)
    door = Door(engine)
    results = door.show(scene["obama2"], 6)
    assert [len(r.decisions) for r in results] == [0, 0, 1, 0, 0, 0]
    track_ids = {face.track_id for r in results for face in r.faces}
    assert len(track_ids) == 1
    for result, frame in zip(results, door.frames, strict=True):
        assert (result.frame_index, result.frame_time) == (frame.index, frame.monotonic)
        [view] = result.faces
        assert (view.label, view.state) == ("Barack Obama", "known")
        x1, y1, x2, y2 = view.box
        assert 50 < x1 < x2 < 350 and 0 <= y1 < y2 <= 400
    [shown] = results[2].decisions
    decision = shown.decision
    assert decision.outcome is Outcome.GRANTED and decision.granted
    assert (decision.person.person_id, decision.person.name) == (obama.id, "Barack Obama")
    assert decision.message == "Access granted: Barack Obama."
    assert decision.track_id == track_ids.pop()
    assert decision.time == door.frames[2].wall
    # The door's threshold is the site's, derived from the model's calibration for one person enrolled
    # (not the 1:1 threshold; whether it lies below or above that depends on the model).
    assert decision.threshold == engine.threshold
    rule = SiteThreshold.for_model(pipeline.spec, DEFAULT_MAX_FPIR)
    assert rule.derived and engine.threshold == rule.for_gallery(1)
    assert 0.0 < decision.distance < engine.threshold
    assert shown.latency == 2 * STEP + LAG
    assert shown.thumbnail == enrolled_jpeg(store, obama.id)
    assert shown.thumbnail[:2] == b"\xff\xd8"

    [event] = store.events()
    assert (event.decision, event.reason, event.door, event.person_id, event.person_name) == (
        "granted",
        "granted",
        DOOR,
        obama.id,
        "Barack Obama",
    )
    assert event.message == "Access granted: Barack Obama."
    assert event.model_id == pipeline.spec.id
    assert event.distance == pytest.approx(decision.distance)
    assert event.threshold == pytest.approx(engine.threshold)
    assert event.latency_ms == pytest.approx(shown.latency * 1e3)
    assert event.time == door.frames[2].wall
    assert event.has_snapshot
    snapshot = read_image(store.event_snapshot(event.id))
    assert snapshot.shape == (96, 96, 3)


@pytest.mark.parametrize("stranger", ["collins", "biden"])
def test_a_stranger_gets_exactly_one_unknown_event(pipeline, store, obama, scene, stranger):
    """Someone not enrolled: labelled "Unknown"/unknown, one UNKNOWN decision on the k-th frame,
    logged as decision "unknown" for nobody, with a snapshot and no enrolled face on the banner."""
    door = Door(open_engine(pipeline, store))
    door.show(scene[stranger], 6)
    assert all([(f.label, f.state) for f in r.faces] == [("Unknown", "unknown")] for r in door.results)
    [(index, shown)] = door.decisions()
    assert index == 2
    assert shown.decision.outcome is Outcome.UNKNOWN
    assert shown.decision.person is None
    assert shown.decision.message == "Unknown face."
    assert shown.decision.distance > door.engine.threshold
    assert shown.thumbnail is None
    [event] = store.events()
    assert (event.decision, event.reason, event.person_id, event.door) == ("unknown", "unknown", None, DOOR)
    assert event.has_snapshot


def test_a_person_standing_at_the_door_is_one_event_and_encoded_only_every_recheck(
    pipeline, store, obama, scene, monkeypatch
):
    """35 frames (4.25 s) of the same person: one GRANTED event only; undecided frames are encoded
    every frame, the decided face only when RECHECK seconds have passed since its last encoding
    (frames 0, 1, 2, then 10, 18, 26, 34 at 1/8 s steps); skipped frames run no encoder."""
    engine = open_engine(pipeline, store)
    door = Door(engine)
    encoder_ran, encode = [], pipeline.encode
    monkeypatch.setattr(
        pipeline, "encode", lambda chips: encoder_ran.extend([door.index] * len(chips)) or encode(chips)
    )
    encoded_at = []
    for _ in range(35):
        door.show(scene["obama2"])
        [track] = engine.tracker.tracks.values()
        encoded_at.append(track.encoded_at)
    assert kiosk_engine.RECHECK == 1.0  # the schedule below assumes it
    times = [r.frame_time for r in door.results]
    encoded = [i for i in range(35) if encoded_at[i] == times[i]]
    assert encoded == door.encoded == encoder_ran == [0, 1, 2, 10, 18, 26, 34]
    assert all(encoded_at[i] == times[max(e for e in encoded if e <= i)] for i in range(35))
    assert outcomes(door) == [(2, Outcome.GRANTED)]
    assert len(store.events()) == 1
    assert {(f.track_id, f.label, f.state) for r in door.results for f in r.faces} == {(1, "Barack Obama", "known")}
    for r in door.results:
        assert set(r.timings) == {"detect", "encode", "total"}
        assert r.timings["total"] == pytest.approx(r.timings["detect"] + r.timings["encode"])


def test_a_frame_without_faces_has_no_faces_and_no_decisions(pipeline, store, obama, scene):
    """coffee.jpg: no faces, no decisions, nothing logged; the frame's index and time are echoed."""
    door = Door(open_engine(pipeline, store))
    [result] = door.show(scene["coffee"])
    assert (result.faces, result.decisions) == ((), ())
    assert (result.frame_index, result.frame_time) == (0, door.frames[0].monotonic)
    assert store.events() == []


def test_a_short_gap_keeps_the_appearance(pipeline, store, obama, scene):
    """A face missing for no longer than the tracker's max_age (0.7 s) comes back on the same track:
    no second event."""
    door = Door(open_engine(pipeline, store))
    door.show(scene["obama2"], 3)
    door.show(scene["coffee"], 4)  # back 5 steps = 0.625 s after last seen
    door.show(scene["obama2"], 4)
    assert {f.track_id for r in door.results for f in r.faces} == {1}
    assert outcomes(door) == [(2, Outcome.GRANTED)]


def test_cooldown_and_new_appearances_after_a_gap(pipeline, store, obama, scene):
    """Granted at t=0.25 (cooldown 3 s). Gone 1 s (> max_age) and back: a new track, still labelled,
    but no GRANTED within the cooldown — nor after it ends while the same appearance stays. Gone
    again and back after the cooldown: a new appearance, granted again. Two events in all."""
    door = Door(open_engine(pipeline, store))
    door.show(scene["obama2"], 4)  # t 0 .. 0.375, granted at 0.25
    door.show(scene["coffee"], 8)  # t 0.5 .. 1.375
    back = door.show(scene["obama2"], 20)  # t 1.5 .. 3.875: the cooldown ends at 3.25
    assert door.frames[-1].monotonic > door.frames[2].monotonic + CONFIG.cooldown
    door.show(scene["coffee"], 8)  # t 4.0 .. 4.875
    again = door.show(scene["obama2"], 4)  # t 5.0 .. 5.375
    first_id, back_id, again_id = (
        door.results[0].faces[0].track_id,
        back[0].faces[0].track_id,
        again[0].faces[0].track_id,
    )
    assert len({first_id, back_id, again_id}) == 3
    assert {(f.track_id, f.label) for r in back for f in r.faces} == {(back_id, "Barack Obama")}
    # the decision withheld by the cooldown settles that appearance: encoded k times, then once a second
    encoded = [index for index in door.encoded if 12 <= index < 32]
    assert encoded[:3] == [12, 13, 14] and len(encoded) <= 6
    assert outcomes(door) == [(2, Outcome.GRANTED), (42, Outcome.GRANTED)]
    assert door.decisions()[1][1].decision.track_id == again_id
    assert [e.decision for e in store.events(newest_first=False)] == ["granted", "granted"]


def test_a_person_replaced_by_another_in_the_same_place_is_a_new_appearance(pipeline, store, obama, scene):
    """Obama is granted, then Biden's face takes the same box with no gap. The tracker follows the
    box, but the first recheck of the decided face (RECHECK s after its last encoding) sees another
    face: the track restarts under a new id, is labelled Unknown, and Biden gets his own UNKNOWN
    event k frames later, with the latency counted from the restart (the capture of frame 10)."""
    door = Door(open_engine(pipeline, store))
    door.show(scene["obama2"], 6)  # granted at frame 2 (t 0.25), encoded last then
    door.show(scene["biden"], 10)  # frames 6..15; recheck due at t >= 1.25: frame 10
    ids = [r.faces[0].track_id for r in door.results]
    labels = [r.faces[0].label for r in door.results]
    assert ids == [1] * 10 + [2] * 6
    assert labels == ["Barack Obama"] * 10 + ["Unknown"] * 6  # until the recheck, the box keeps its label
    assert outcomes(door) == [(2, Outcome.GRANTED), (12, Outcome.UNKNOWN)]
    unknown = door.decisions()[1][1]
    assert unknown.decision.track_id == 2
    assert unknown.latency == 2 * STEP + LAG
    assert [(e.decision, e.person_id) for e in store.events(newest_first=False)] == [
        ("granted", obama.id),
        ("unknown", None),
    ]


def test_two_people_in_one_frame_are_decided_separately(pipeline, store, obama, scene):
    """Obama and Biden side by side: two tracks, in the same frame one GRANTED (left box) and one
    UNKNOWN (right box), two events."""
    both = np.ascontiguousarray(np.hstack([scene["obama2"], scene["biden"]]))
    door = Door(open_engine(pipeline, store))
    door.show(both, 4)
    faces = sorted(door.results[-1].faces, key=lambda f: f.box[0])
    assert [(f.label, f.state) for f in faces] == [("Barack Obama", "known"), ("Unknown", "unknown")]
    assert faces[0].box[2] < 400 < faces[1].box[0]
    by_track = {d.decision.track_id: d.decision.outcome for i, d in door.decisions() if i == 2}
    assert by_track == {faces[0].track_id: Outcome.GRANTED, faces[1].track_id: Outcome.UNKNOWN}
    assert len(door.decisions()) == 2
    assert sorted(e.decision for e in store.events()) == ["granted", "unknown"]


def test_the_threshold_given_to_the_engine_is_the_one_used(pipeline, store, obama, scene):
    """With threshold 0.3 (below obama2's ~0.39 to obama.jpg) the enrolled man is Unknown, and the
    access log records that threshold."""
    door = Door(open_engine(pipeline, store, threshold=0.3))
    door.show(scene["obama2"], 3)
    assert door.results[0].faces[0].label == "Unknown"
    assert outcomes(door) == [(2, Outcome.UNKNOWN)]
    [event] = store.events()
    assert (event.decision, event.threshold) == ("unknown", pytest.approx(0.3))


@pytest.mark.parametrize(
    ("details", "outcome", "message"),
    [
        ({"active": False}, Outcome.INACTIVE, "Barack Obama is deactivated."),
        (
            {"valid_until": datetime(2020, 1, 1, 12, tzinfo=UTC)},
            Outcome.EXPIRED,
            "Barack Obama was valid until 2020-01-01.",
        ),
    ],
)
def test_a_recognised_person_without_access_is_denied(pipeline, store, photo, scene, details, outcome, message):
    """A deactivated / expired person is recognised (labelled by name) and denied once, with a
    message naming them, logged as "denied" with the reason; the banner shows their enrolled face."""
    person = enroll_photo(store, pipeline, photo("obama.jpg"), "Barack Obama", "photo:obama.jpg", **details)
    door = Door(open_engine(pipeline, store))
    door.show(scene["obama2"], 5)
    assert door.results[0].faces[0].label == "Barack Obama"
    [(index, shown)] = door.decisions()
    assert (index, shown.decision.outcome, shown.decision.message) == (2, outcome, message)
    assert shown.thumbnail == enrolled_jpeg(store, person.id)
    [event] = store.events()
    assert (event.decision, event.reason, event.person_id, event.message) == (
        "denied",
        outcome.value,
        person.id,
        message,
    )


def test_a_person_enrolled_while_the_kiosk_runs_is_recognised_after_refresh(pipeline, store, photo, scene):
    """The live gallery follows the database: enrolled after the engine opened, Obama is Unknown on
    the next frame, and recognised (then granted, with no unknown event) once REFRESH has elapsed."""
    template, _ = prepare_template(pipeline, photo("obama.jpg"), "photo:obama.jpg")
    engine = open_engine(pipeline, store)
    person = store.enroll("Barack Obama", template)
    door = Door(engine)
    [first] = door.show(scene["obama2"])
    assert first.faces[0].label == "Unknown"
    door.wait(kiosk_engine.REFRESH)  # a moment looking away, short enough to keep the track
    door.show(scene["obama2"], 4)
    assert [r.faces[0].label for r in door.results[1:]] == ["Barack Obama"] * 4
    assert outcomes(door) == [(3, Outcome.GRANTED)]
    assert [(e.decision, e.person_id) for e in store.events()] == [("granted", person.id)]


def test_a_person_deactivated_while_the_kiosk_runs_is_denied_at_the_next_appearance(pipeline, store, obama, scene):
    """Granted, then deactivated in the database while the kiosk runs: after REFRESH, their next
    appearance (past the cooldown) is INACTIVE, "denied"."""
    door = Door(open_engine(pipeline, store))
    door.show(scene["obama2"], 3)
    store.set_active(obama.id, False)
    door.wait(CONFIG.cooldown)  # away longer than the cooldown (and REFRESH); the empty frame ends his track
    door.show(scene["coffee"])
    door.show(scene["obama2"], 3)
    assert door.results[-1].faces[0].track_id == 2
    assert outcomes(door) == [(2, Outcome.GRANTED), (6, Outcome.INACTIVE)]
    assert [e.decision for e in store.events(newest_first=False)] == ["granted", "denied"]


@pytest.mark.parametrize(("image", "hint"), [("blurred", "Look at the camera"), ("tiny", "Come closer")])
def test_a_poor_face_gets_a_hint_and_is_never_granted(pipeline, store, obama, scene, image, hint):
    """A heavily blurred or too small face of an enrolled person: state "poor" with a hint, one
    LOW_QUALITY decision (logged "rejected-quality", nobody named), never GRANTED."""
    door = Door(open_engine(pipeline, store))
    door.show(scene[image], 6)
    assert all([(f.label, f.state) for f in r.faces] == [(hint, "poor")] for r in door.results)
    [(index, shown)] = door.decisions()
    assert (index, shown.decision.outcome, shown.decision.person) == (2, Outcome.LOW_QUALITY, None)
    assert shown.thumbnail is None
    [event] = store.events()
    assert (event.decision, event.reason, event.person_id) == ("rejected-quality", "low_quality", None)


def test_a_person_first_seen_blurred_is_granted_within_k_sharp_frames(pipeline, store, obama, scene):
    """Walking up (3 blurred frames → a LOW_QUALITY event) then standing still and sharp: recognised on
    the first sharp frame and granted on the k-th, as the policy allows a person decision after a
    low-quality one."""
    door = Door(open_engine(pipeline, store))
    door.show(scene["blurred"], 3)
    sharp = door.show(scene["obama2"], 4)
    assert sharp[0].faces[0].label == "Barack Obama"
    assert outcomes(door) == [(2, Outcome.LOW_QUALITY), (5, Outcome.GRANTED)]


def test_a_person_first_seen_blurred_is_granted_at_a_frame_rate_not_dividing_recheck(pipeline, store, obama, scene):
    """Same walk-up at 0.09 s per frame: after the low-quality event, 6 s of a sharp face must lead to
    a GRANTED decision."""
    door = Door(open_engine(pipeline, store), step=0.09)
    door.show(scene["blurred"], 3)
    door.show(scene["obama2"], 67)
    assert [d.decision.outcome for i, d in door.decisions()] == [Outcome.LOW_QUALITY, Outcome.GRANTED]


def test_a_locked_database_delays_the_access_log_but_never_the_decision(pipeline, store, db_path, obama, scene):
    """Another program holds the write lock while Barack Obama is at the door: he is granted on the
    k-th frame as always (the kiosk waits at most LOG_BUSY_TIMEOUT_MS, not the store's 10 s); the
    event waits in memory, each result says so, and it is written with its own time once the lock
    is released."""
    engine = open_engine(pipeline, store)
    door = Door(engine)
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        results = door.show(scene["obama2"], 4)
        assert time.monotonic() - started < 10.0  # two write attempts at the store's usual 10 s would be 20 s
        assert outcomes(door) == [(2, Outcome.GRANTED)]
        assert [r.unlogged for r in results] == [0, 0, 1, 1]
        assert "locked" in results[-1].log_problem
        assert store.events() == []  # a reader still sees the file; the event is not there yet
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    [after] = door.show(scene["obama2"])
    assert (after.unlogged, after.log_problem) == (0, None)
    [event] = store.events()
    decided = door.decisions()[0][1].decision
    assert (event.decision, event.person_name, event.door) == ("granted", "Barack Obama", DOOR)
    assert event.time == decided.time
    assert event.has_snapshot


def test_the_derived_threshold_tightens_as_people_are_enrolled(pipeline, store, obama):
    """With more people enrolled a stranger has more chances to match: the door's threshold follows
    the gallery's size at once (a fixed threshold does not move)."""
    engine = open_engine(pipeline, store)
    alone = engine.threshold
    rng = np.random.default_rng(3)
    for number in range(50):
        store.enroll(f"Person {number}", new_template(rng, model_id=pipeline.spec.id, dim=pipeline.spec.dim))
    engine.gallery.refresh()
    assert engine.gallery.people == 51
    assert engine.threshold < alone
    assert engine.threshold == SiteThreshold.for_model(pipeline.spec, DEFAULT_MAX_FPIR).for_gallery(51)
    assert open_engine(pipeline, store, threshold=0.5).threshold == 0.5


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A second, cheap model: the one a database from before an upgrade was enrolled with."""
    return load_tiny(tmp_path_factory.mktemp("models"))


def test_people_with_only_another_models_templates_are_reported_until_re_encoded(
    pipeline, store, db_path, photo, scene, tiny, monkeypatch
):
    """Obama's only template is of the old model: every result says the kiosk cannot recognise him, and
    he is denied as unknown. Re-encoded from his stored thumbnail by the admin (another connection),
    he is in the gallery at the next refresh, the line is gone and he is granted."""
    monkeypatch.setattr(kiosk_engine, "RECOUNT", 0.0)
    enroll_photo(store, tiny, photo("obama.jpg"), "Barack Obama", "photo:obama.jpg")
    door = Door(open_engine(pipeline, store))
    before = door.show(scene["obama2"], 3)
    assert {result.gallery_problem for result in before} == {
        f"1 enrolled person has no face template for {pipeline.spec.name} yet and cannot be recognised here: an "
        "administrator must re-encode them (admin window: Settings → Re-encode now)."
    }
    assert outcomes(door) == [(2, Outcome.UNKNOWN)]
    with Store.open(db_path) as admin:
        assert reencode(admin, pipeline).reencoded == 1
    door.wait(kiosk_engine.REFRESH)
    after = door.show(scene["obama2"], 3)
    assert [(r.gallery_problem, r.faces[0].label) for r in after] == [(None, "Barack Obama")] * 3
    assert outcomes(door)[1:] == [(5, Outcome.GRANTED)]


def test_the_count_is_made_again_only_after_changes_and_at_most_every_recount(pipeline, store, photo, scene, tiny):
    """Counting reads every template, so a kiosk counts at start-up, then only after a change, and
    no more often than RECOUNT: a second person enrolled with the old model shows once it has passed."""
    enroll_photo(store, tiny, photo("obama.jpg"), "Barack Obama", "photo:obama.jpg")
    door = Door(open_engine(pipeline, store))
    enroll_photo(store, tiny, photo("biden.jpg"), "Joe Biden", "photo:biden.jpg")
    door.wait(kiosk_engine.REFRESH)
    [result] = door.show(scene["coffee"])  # the gallery sees the change, but RECOUNT has not passed
    assert result.gallery_problem.startswith("1 enrolled person has")
    door.wait(kiosk_engine.RECOUNT)
    [result] = door.show(scene["coffee"])
    assert result.gallery_problem.startswith(f"2 enrolled people have no face template for {pipeline.spec.name} yet")


# --- door rules: access groups, schedules and holidays ----------------------------------------------

ZONE = "Europe/Paris"  # UTC+2 in June


def open_engine_at(pipeline, store, wall):
    """The engine on a manual clock whose wall time starts at ``wall``, the site in ZONE."""
    store.set_setting("kiosk.time_zone", ZONE)
    rule = SiteThreshold.for_model(pipeline.spec, DEFAULT_MAX_FPIR)
    return KioskEngine.open(pipeline, store, CONFIG, DOOR, rule, ManualClock(wall=wall))


def test_a_recognised_person_outside_their_groups_schedule_is_denied_with_the_reason(pipeline, store, obama, scene):
    """Staff may use the front door on weekdays 07:00-19:00; on Saturday at 03:10 (Paris) Obama, in Staff,
    is recognised, labelled refused and never challenged, and denied once as NOT_ALLOWED with the rules'
    reason (group, door, hours and the local time), logged as "denied"; the banner says ACCESS DENIED
    with that reason."""
    store.add_access_group("Staff", doors={DOOR: "mon-fri 07:00-19:00"})
    store.update_person(obama.id, group="Staff")
    door = Door(open_engine_at(pipeline, store, datetime(2026, 6, 6, 1, 10, tzinfo=UTC)))
    door.show(scene["obama2"], 5)
    assert {(f.label, f.state) for r in door.results for f in r.faces} == {("Barack Obama", "refused")}
    [(index, shown)] = door.decisions()
    reason = "Outside the 'Staff' schedule at door 'front door' (Mon–Fri 07:00–19:00; now Sat 03:10)."
    assert (index, shown.decision.outcome) == (2, Outcome.NOT_ALLOWED)
    assert shown.decision.message == f"Barack Obama: {reason}"
    [event] = store.events()
    assert (event.decision, event.reason, event.person_id, event.door, event.message) == (
        "denied",
        "not_allowed",
        obama.id,
        DOOR,
        f"Barack Obama: {reason}",
    )
    banner = BannerModel(door.clock)
    banner.engine_ready()
    banner.frame_result(door.results[index])
    assert (banner.banner("Site").screen, banner.banner("Site").title) == (Screen.DENIED, "ACCESS DENIED")
    assert reason in banner.banner("Site").detail


def test_a_window_across_midnight_lets_the_night_shift_in_until_it_ends(pipeline, store, obama, scene):
    """Night shift: Friday 22:00 to Saturday 06:00 (Paris). Saturday 05:58 is inside (granted); two
    minutes later, at 06:00, the next appearance is outside (NOT_ALLOWED, naming the hours)."""
    store.add_access_group("Night shift", doors={DOOR: "fri 22:00-06:00"})
    store.update_person(obama.id, group="Night shift")
    door = Door(open_engine_at(pipeline, store, datetime(2026, 6, 6, 3, 58, tzinfo=UTC)))
    door.show(scene["obama2"], 3)
    door.wait(120 - 3 * STEP)  # 06:00:00 local when the next appearance is decided
    door.show(scene["coffee"])
    door.show(scene["obama2"], 3)
    assert outcomes(door) == [(2, Outcome.GRANTED), (6, Outcome.NOT_ALLOWED)]
    granted, refused = store.events(newest_first=False)
    assert granted.decision == "granted" and refused.decision == "denied"
    assert refused.message == (
        "Barack Obama: Outside the 'Night shift' schedule at door 'front door' (Fri 22:00–06:00; now Sat 06:00)."
    )


def test_the_kiosk_follows_a_holiday_added_while_it_runs(pipeline, store, obama, scene):
    """Monday 11:00 (Paris), Staff on weekdays: granted. An administrator closes the site for a holiday
    that day while the kiosk runs: the next appearance (past the cooldown) is refused, naming the
    holiday; a security group that ignores holidays is still let in after Obama is moved to it."""
    store.add_access_group("Staff", doors={DOOR: "mon-fri 07:00-19:00"})
    store.add_access_group("Security", observe_holidays=False, doors={DOOR: "24/7"})
    store.update_person(obama.id, group="Staff")
    door = Door(open_engine_at(pipeline, store, datetime(2026, 6, 1, 9, tzinfo=UTC)))
    door.show(scene["obama2"], 3)
    store.add_holiday("Founders' Day", date(2026, 6, 1))
    door.wait(CONFIG.cooldown)
    door.show(scene["coffee"])
    door.show(scene["obama2"], 3)
    store.update_person(obama.id, group="Security")
    door.wait(CONFIG.cooldown)
    door.show(scene["coffee"])
    door.show(scene["obama2"], 3)
    assert outcomes(door) == [(2, Outcome.GRANTED), (6, Outcome.NOT_ALLOWED), (10, Outcome.GRANTED)]
    assert [e.message for e in store.events(newest_first=False)][1] == (
        "Barack Obama: Door 'front door' is closed on holiday 'Founders' Day' (2026-06-01)."
    )


def test_without_access_groups_everyone_is_let_in_at_any_hour(pipeline, store, obama, scene):
    """No group defined: Obama, in no group, is granted on Sunday at 03:00 (today's behaviour)."""
    door = Door(open_engine_at(pipeline, store, datetime(2026, 6, 7, 1, tzinfo=UTC)))
    door.show(scene["obama2"], 3)
    assert outcomes(door) == [(2, Outcome.GRANTED)]
