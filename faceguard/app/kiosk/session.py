"""Frame in, faces and access decisions out: the kiosk's work between the camera and the screen.

Per frame: detect faces, follow them with the tracker, check each face's quality, encode only the
faces that need it (new or undecided faces every frame, decided ones once every ``RECHECK`` seconds),
match them against the live gallery at the site's threshold for today's number of people
(``faceguard.app.site_threshold``), let the access policy vote, and write every decision to the
access log with a face snapshot. Runs in the kiosk's inference thread, which owns the Store.

With a door output (``faceguard.door``), each GRANTED decision unlocks the door for its pulse. The
events table has no field for the door, so the logged message says it ("… Door unlocked for 4 s.", or
why the door did not open). A door error never changes a decision: the door stays locked and out of
service, and each frame's ``door_problem`` says so until the door works again.

Enrolled people whose templates are all of other models (a database from before a model upgrade) are
not in this model's gallery: each frame's result says how many, until they are re-encoded.
"""

from __future__ import annotations

import contextlib
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from faceguard.access.policy import AccessPolicy, Decision, Observation, Outcome, PolicyConfig, judge
from faceguard.app.kiosk.results import DecisionView, FaceState, FaceView, FrameResult
from faceguard.app.kiosk.tracker import IouTracker, Track
from faceguard.app.site_threshold import SiteThreshold
from faceguard.core.clock import SYSTEM_CLOCK, Clock
from faceguard.core.errors import DoorError, StoreError
from faceguard.door.driver import Door
from faceguard.matching.gallery import Match, face_distance
from faceguard.store.access_log import log_decision
from faceguard.store.live_gallery import LiveGallery
from faceguard.store.repository import Store
from faceguard.vision.camera import Frame
from faceguard.vision.faces import CheckedFace, RefusedFace
from faceguard.vision.quality import QualityThresholds
from faceguard.vision.thumbnail import SNAPSHOT_SIZE, face_thumbnail

if TYPE_CHECKING:  # the engine (torch) is passed in
    from faceguard.vision.pipeline import FacePipeline

#: At the door, faces are smaller and softer than in an enrollment photo: a 640×480 webcam sees a
#: face 60 px wide at about 1.5 m, and a person walking up blurs a little.
LIVE_LIMITS = QualityThresholds(min_face_size=60.0, min_sharpness=20.0)
#: Seconds between re-encodings of a face whose decision is made (catches a tracker mix-up cheaply).
RECHECK = 1.0
#: Seconds between looks at the database for people enrolled, changed or removed meanwhile.
REFRESH = 0.5
#: Seconds between counts of the enrolled people this model's gallery lacks, made only after changes
#: (the count reads every template: about 0.4 s for 100k people on a busy 2-core machine).
RECOUNT = 10.0
#: How long writing an access event may wait for another program's write lock; a kiosk must not
#: freeze for the store's usual 10 s. Events that cannot be written wait in memory (up to
#: ``MAX_UNLOGGED``) and are written, in order and with their own times, as soon as the file is free.
LOG_BUSY_TIMEOUT_MS = 250
MAX_UNLOGGED = 10_000


@dataclass(frozen=True)
class _Event:
    decision: Decision
    door: str
    latency_ms: float
    snapshot: bytes


class KioskEngine:
    def __init__(
        self,
        pipeline: FacePipeline,
        store: Store,
        gallery: LiveGallery,
        config: PolicyConfig,
        door: str,
        threshold: SiteThreshold,
        clock: Clock = SYSTEM_CLOCK,
        door_output: Door | None = None,
    ) -> None:
        """``clock`` times the refreshes, the latencies and the stage timings (monotonic seconds); the
        tracker, the votes and the log go by each frame's own capture times. ``door_output``: the lock
        that GRANTED decisions unlock (None: no door output); the engine locks it now."""
        self.pipeline, self.store, self.gallery, self.clock = pipeline, store, gallery, clock
        self.policy = AccessPolicy(gallery.status_of, config)
        self.reconfigure(config, door, threshold)
        self.tracker = IouTracker()
        self._refreshed = clock.monotonic()
        self._unlogged: deque[_Event] = deque(maxlen=MAX_UNLOGGED)
        self._log_problem: str | None = None
        self._changed = False  # people changed since the last count of those the gallery lacks
        self._count_missing()
        self.door_output: Door | None = None
        self.set_door_output(door_output)

    def set_door_output(self, door_output: Door | None) -> None:
        """Use ``door_output`` from now on, locked first (an error leaves it out of service); the caller
        closes the previous one."""
        self.door_output = door_output
        if door_output is not None:
            with contextlib.suppress(DoorError):  # the door's state and problem say it on every frame
                door_output.start()

    def close_door(self) -> None:
        """Lock the door and release its driver (the kiosk is stopping)."""
        if self.door_output is not None:
            with contextlib.suppress(DoorError):
                self.door_output.close()
            self.door_output = None

    def reconfigure(self, config: PolicyConfig, door: str, threshold: SiteThreshold) -> None:
        """New voting rules, door name or threshold rule, from the next frame on."""
        self.policy.reconfigure(config)
        self.door = door
        self.threshold_rule = threshold

    @property
    def threshold(self) -> float:
        """The distance threshold now: the rule's for the number of people in the gallery."""
        return self.threshold_rule.for_gallery(self.gallery.people)

    @classmethod
    def open(
        cls,
        pipeline: FacePipeline,
        store: Store,
        config: PolicyConfig,
        door: str,
        threshold: SiteThreshold,
        clock: Clock = SYSTEM_CLOCK,
        door_output: Door | None = None,
    ) -> KioskEngine:
        store.set_busy_timeout(LOG_BUSY_TIMEOUT_MS)
        gallery = LiveGallery.load(store, pipeline.spec.id, pipeline.spec.dim)
        return cls(pipeline, store, gallery, config, door, threshold, clock, door_output)

    def process(self, frame: Frame) -> FrameResult:
        start = self.clock.monotonic()
        if self.door_output is not None:
            self.door_output.poll()  # re-locks an overdue pulse should the timer thread have missed it
        self._refresh()
        faces = self.pipeline.detect(frame.image)
        detected = self.clock.monotonic()
        tracks, ended = self.tracker.update(faces, frame.monotonic)
        for track_id in ended:
            self.policy.end_track(track_id)
        due = [t for t in tracks if t.encoded_at is None or not t.decided or frame.monotonic - t.encoded_at >= RECHECK]
        decisions = [d for t, obs in self._observe(frame, due) if (d := self._decide(frame, t, obs))]
        self._write_log()
        done = self.clock.monotonic()
        return FrameResult(
            frame.index,
            frame.monotonic,
            tuple(_view(t) for t in tracks),
            tuple(decisions),
            {"detect": (detected - start) * 1e3, "encode": (done - detected) * 1e3, "total": (done - start) * 1e3},
            len(self._unlogged),
            self._log_problem,
            self._gallery_problem,
            self.door_output.problem if self.door_output is not None else None,
        )

    def _write_log(self) -> None:
        """Write the decisions not yet in the access log, oldest first; stop at the first failure."""
        while self._unlogged:
            event = self._unlogged[0]
            try:
                log_decision(
                    self.store,
                    event.decision,
                    door=event.door,
                    model_id=self.pipeline.spec.id,
                    latency_ms=event.latency_ms,
                    snapshot=event.snapshot,
                )
            except StoreError as error:
                self._log_problem = f"The access log cannot be written: {error}"
                return
            self._unlogged.popleft()
        self._log_problem = None

    def _refresh(self) -> None:
        if self.clock.monotonic() - self._refreshed >= REFRESH:
            self._changed |= bool(self.gallery.refresh())
            self._refreshed = self.clock.monotonic()
        if self._changed and self.clock.monotonic() - self._counted >= RECOUNT:
            self._count_missing()

    def _count_missing(self) -> None:
        """Count the enrolled people with templates of other models only (this model cannot recognise
        them) for the results' ``gallery_problem``."""
        spec = self.pipeline.spec
        missing = self.store.people_without_model(spec.id)
        self._counted, self._changed = self.clock.monotonic(), False
        self._gallery_problem = missing_problem(missing, spec.name) if missing else None

    def _observe(self, frame: Frame, tracks: list[Track]) -> list[tuple[Track, Observation]]:
        """Read the faces of ``tracks`` (quality gate, then encoding), match the encoded ones; label each track."""
        if not tracks:
            return []
        read = self.pipeline.read_faces(frame.image, [track.face for track in tracks], LIVE_LIMITS)
        encodings = [face.encoding for face in read if isinstance(face, CheckedFace)]
        matches = iter(self.gallery.identify(np.stack(encodings), self.threshold) if encodings else [])
        observed: list[tuple[Track, Observation]] = []
        for track, face in zip(tracks, read):
            match = None
            if isinstance(face, RefusedFace):
                if not track.decided:
                    track.label, track.state = face.problem.hint, FaceState.POOR
            else:
                match = next(matches)
                self._follow(track, face.encoding, frame.monotonic)
                self._label(track, match, frame.wall)
            observed.append((track, Observation(frame.monotonic, frame.wall, track.track_id, match)))
            track.encoded_at = frame.monotonic
        return observed

    def _follow(self, track: Track, encoding: np.ndarray, now: float) -> None:
        """Keep the track's encoding; a face that no longer matches it is a new appearance."""
        same_face = self.threshold_rule.one_to_one()
        if track.encoding is not None and face_distance(encoding[None], track.encoding[None])[0, 0] > same_face:
            self.policy.end_track(self.tracker.restart(track, now))
        track.encoding = encoding

    def _label(self, track: Track, match: Match[int], now: datetime) -> None:
        status = self.gallery.status_of(match.identity) if match.identity is not None else None
        if status is None:
            track.label, track.state, track.person_id = "Unknown", FaceState.UNKNOWN, None
        else:
            granted = judge(status, now)[0] is Outcome.GRANTED
            state = FaceState.KNOWN if granted else FaceState.REFUSED
            track.label, track.state, track.person_id = status.name, state, status.person_id

    def _decide(self, frame: Frame, track: Track, observation: Observation) -> DecisionView | None:
        decision = self.policy.observe(observation)
        # only a decision about a recognised person (logged or withheld by the cooldown) is final for
        # this appearance: after "unknown" or "low quality" the face keeps being encoded every frame
        # (it may turn sharp, or be enrolled meanwhile)
        track.decided = self.policy.settled(track.track_id)
        if decision is None:
            return None
        latency = self.clock.monotonic() - track.first_seen
        logged = self._open_door(decision) if decision.granted else decision
        self._unlogged.append(_Event(logged, self.door, latency * 1e3, _snapshot(frame.image, track)))
        return DecisionView(decision, self._enrolled_face(decision), latency)

    def _open_door(self, decision: Decision) -> Decision:
        """Unlock the door for a granted decision; returns the decision to log, its message saying
        what the door did (the events table has no field of its own for it)."""
        if self.door_output is None:
            return decision
        try:
            pulse = self.door_output.unlock()
        except DoorError as error:
            return replace(decision, message=f"{decision.message} The door did not open: {error}")
        return replace(decision, message=f"{decision.message} Door unlocked for {pulse:g} s.")

    def _enrolled_face(self, decision: Decision) -> bytes | None:
        """The person's first enrolled face for the banner (None if unknown, erased or unreadable now)."""
        if decision.person is None or decision.outcome is Outcome.UNKNOWN:
            return None
        try:
            return self.store.face(decision.person.person_id)
        except StoreError:  # the file is busy: the name suffices
            return None


def missing_problem(missing: int, model: str) -> str:
    """The kiosk's service line for ``missing`` enrolled people without a template of ``model``."""
    people = "1 enrolled person has" if missing == 1 else f"{missing:,} enrolled people have"
    return (
        f"{people} no face template for {model} yet and cannot be recognised here: an administrator "
        "must re-encode them (admin window: Settings → Re-encode now)."
    )


def _snapshot(image: np.ndarray, track: Track) -> bytes:
    return face_thumbnail(image, track.face.landmarks, size=SNAPSHOT_SIZE).jpeg


def _view(track: Track) -> FaceView:
    x1, y1, x2, y2 = (float(v) for v in track.face.box)
    return FaceView(track.track_id, (x1, y1, x2, y2), track.label, track.state)
