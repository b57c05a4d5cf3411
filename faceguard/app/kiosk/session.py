"""Frame in, faces and access decisions out: the kiosk's work between the camera and the screen.

Per frame: detect faces, follow them with the tracker, check each face's quality, encode only the
faces that need it (new or undecided faces every frame, decided ones once every ``RECHECK`` seconds),
match them against the live gallery at the site's threshold for today's number of people
(``faceguard.app.site_threshold``), let the access policy vote, and write every decision to the
access log with a face snapshot. Runs in the kiosk's inference thread, which owns the Store.

With liveness checks (``faceguard.app.kiosk.liveness``), a recognised face is challenged at once (the
prompt is in each frame's ``challenges``) and a GRANTED vote is held until its checks are settled: it
is logged as GRANTED when they pass, as NOT_LIVE (denied) when they fail or the face leaves first,
with the checks' outcome in the event's liveness fields.

With a door output (``faceguard.door``), each GRANTED decision unlocks the door for its pulse; the
event's ``door_action`` and message say it ("Door unlocked for 4 s.", or why the door did not open). A
door error never changes a decision: the door stays locked and out of service, and each frame's
``door_problem`` says so until the door works again.

Rate limiting (``faceguard.access.rate_limit``): the denials of each followed face box are counted, a
restart in the same place (another photo held up) included. A box refused too often is paused: it is
not encoded or matched, its label counts the wait down, one RATE_LIMITED alert (denied) is logged with
its snapshot, and when the pause ends it is judged afresh as a new appearance.

Door rules (``faceguard.app.kiosk.door_access``): a recognised person in good standing whom the site's
access groups, schedules or holidays do not let through this door (``self.door``) at the frame's time
is refused as NOT_ALLOWED (denied), the rules' reason the message; the box is labelled refused and not
challenged. The rules are read again soon after an administrator changes them.

Retention (``faceguard.app.kiosk.retention``): at the first frame and once a day after, snapshots and
events older than the site's limits are deleted.

Enrolled people whose templates are all of other models (a database from before a model upgrade) are
not in this model's gallery: each frame's result says how many, until they are re-encoded.
"""

from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from faceguard.access.door_rules import DoorVerdict
from faceguard.access.liveness import LivenessMode
from faceguard.access.policy import AccessPolicy, Decision, Observation, Outcome, PersonStatus, PolicyConfig, judge
from faceguard.access.rate_limit import RateLimitConfig, RateLimiter
from faceguard.app.kiosk.door_access import LiveDoorRules
from faceguard.app.kiosk.liveness import LivenessGate, LivenessVerdict
from faceguard.app.kiosk.pending import MAX_UNLOGGED, PendingEvents, UnwrittenEvent
from faceguard.app.kiosk.results import DecisionView, FaceState, FaceView, FrameResult
from faceguard.app.kiosk.retention import DailyPurge
from faceguard.app.kiosk.tracker import IouTracker, Track
from faceguard.app.site_threshold import SiteThreshold
from faceguard.core.clock import SYSTEM_CLOCK, Clock
from faceguard.core.errors import DoorError, NotFoundError, StoreError
from faceguard.door.driver import Door
from faceguard.matching.gallery import Match, face_distance
from faceguard.store.events import LivenessRecord
from faceguard.store.live_gallery import LiveGallery
from faceguard.store.repository import Store
from faceguard.vision.camera import Frame
from faceguard.vision.faces import CheckedFace, RefusedFace
from faceguard.vision.quality import QualityThresholds
from faceguard.vision.thumbnail import SNAPSHOT_SIZE, face_thumbnail

if TYPE_CHECKING:  # the engine (torch) is passed in
    from faceguard.vision.pipeline import FacePipeline

log = logging.getLogger(__name__)

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
#: freeze for the store's usual 10 s. Events that cannot be written wait in memory (``PendingEvents``,
#: up to ``MAX_UNLOGGED``, beyond which the oldest are dropped and counted) and are written, in order
#: and with their own times, as soon as the file is free.
LOG_BUSY_TIMEOUT_MS = 250
#: The label of a recognised face refused by the liveness check (its box shows no name).
LIVENESS_FAILED_LABEL = "Liveness check failed"
#: The label of a paused face box, with the whole seconds left.
PAUSED_LABEL = "Too many attempts: wait {seconds} s"


@dataclass(frozen=True)
class _Held:
    """A GRANTED vote waiting for the face's liveness checks."""

    decision: Decision
    snapshot: bytes
    first_seen: float
    box_id: int


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
        liveness: LivenessGate | None = None,
        rate_limit: RateLimitConfig | None = None,
        pending: PendingEvents | None = None,
    ) -> None:
        """``clock`` times the refreshes, the latencies and the stage timings (monotonic seconds); the
        tracker, the votes and the log go by each frame's own capture times. ``door_output``: the lock
        that GRANTED decisions unlock (None: no door output); the engine locks it now. ``liveness``: the
        checks a recognised face must pass first (None: none). ``rate_limit``: when a face box refused
        too often is paused (None: the defaults). ``pending``: the events an earlier engine left unwritten,
        and where this one queues its own (None: a new, empty queue)."""
        self.pipeline, self.store, self.gallery, self.clock = pipeline, store, gallery, clock
        self.door_rules = LiveDoorRules(store, clock)
        self.policy = AccessPolicy(gallery.status_of, config, self.door_check)
        self.reconfigure(config, door, threshold)
        self.tracker = IouTracker()
        self._refreshed = clock.monotonic()
        self._unlogged = pending if pending is not None else PendingEvents()
        self._log_problem: str | None = None
        self._changed = False  # people changed since the last count of those the gallery lacks
        self._count_missing()
        self.door_output: Door | None = None
        self.set_door_output(door_output)
        self.liveness = liveness or LivenessGate(LivenessMode.OFF)
        self._held: dict[int, _Held] = {}
        self._abandoned: list[DecisionView] = []  # held votes of faces replaced within their track this frame
        self.rate_limit = RateLimiter(rate_limit or RateLimitConfig())
        self._outcomes: list[tuple[int, Outcome]] = []  # (box id, outcome) of this frame's decisions
        self.retention = DailyPurge(clock)

    def set_liveness(self, liveness: LivenessGate) -> None:
        """Check faces with ``liveness`` from now on; votes already held are checked afresh by it."""
        self.liveness = liveness
        for track_id in self._held:
            liveness.start(track_id, self.clock.monotonic())

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

    def reconfigure(
        self, config: PolicyConfig, door: str, threshold: SiteThreshold, rate_limit: RateLimitConfig | None = None
    ) -> None:
        """New voting rules, door name, threshold rule or rate limit (counts start afresh), from the next
        frame on."""
        self.policy.reconfigure(config)
        self.door = door
        self.threshold_rule = threshold
        if rate_limit is not None and rate_limit != self.rate_limit.config:
            self.rate_limit = RateLimiter(rate_limit)

    def door_check(self, person: PersonStatus, at: datetime) -> DoorVerdict:
        """The site's door rules for ``person`` at this kiosk's door at ``at``."""
        return self.door_rules.check(person, self.door, at)

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
        liveness: LivenessGate | None = None,
        rate_limit: RateLimitConfig | None = None,
        pending: PendingEvents | None = None,
    ) -> KioskEngine:
        store.set_busy_timeout(LOG_BUSY_TIMEOUT_MS)
        gallery = LiveGallery.load(store, pipeline.spec.id, pipeline.spec.dim)
        return cls(pipeline, store, gallery, config, door, threshold, clock, door_output, liveness, rate_limit, pending)

    def process(self, frame: Frame) -> FrameResult:
        start = self.clock.monotonic()
        if self.door_output is not None:
            self.door_output.poll()  # re-locks an overdue pulse should the timer thread have missed it
        self._refresh()
        faces = self.pipeline.detect(frame.image)
        detected = self.clock.monotonic()
        tracks, ended = self.tracker.update(faces, frame.monotonic)
        decisions = [d for track_id in ended if (d := self._end_track(frame, track_id))]
        self._resume(frame, tracks)
        due = [t for t in tracks if t.paused_until is None and _due(t, frame.monotonic)]
        decisions += [d for t, obs in self._observe(frame, due) if (d := self._decide(frame, t, obs))]
        decisions += self._check_liveness(frame, tracks)
        decisions += self._limit_rate(frame)
        self._write_log()
        self.retention.run_if_due(self.store)
        done = self.clock.monotonic()
        return FrameResult(
            frame.index,
            frame.monotonic,
            tuple(self._view(t, frame.monotonic) for t in tracks),
            tuple(decisions),
            {"detect": (detected - start) * 1e3, "encode": (done - detected) * 1e3, "total": (done - start) * 1e3},
            len(self._unlogged),
            self._log_problem,
            self._gallery_problem,
            self.door_output.problem if self.door_output is not None else None,
            tuple(v for t in tracks if (v := self.liveness.view(t.track_id, frame.monotonic))),
        )

    def _write_log(self) -> None:
        """Write the decisions not yet in the access log, oldest first; stop at the first failure (or
        leave them to another engine writing them now)."""
        pending = self._unlogged
        if not pending.lock.acquire(blocking=False):
            return
        try:
            self._log_problem = pending.write(self.store)
        finally:
            pending.lock.release()
        if self._log_problem is None:
            pending.dropped = 0
        elif pending.dropped:
            self._log_problem += f" {pending.dropped} older event(s) were dropped: more than {MAX_UNLOGGED:,} waited."

    def _refresh(self) -> None:
        self.door_rules.refresh()
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
                self._follow(track, face.encoding, frame)
                self._label(track, match, frame)
            observed.append((track, Observation(frame.monotonic, frame.wall, track.track_id, match)))
            track.encoded_at = frame.monotonic
        encoded = {track.track_id: track.face for track, face in zip(tracks, read) if isinstance(face, CheckedFace)}
        self.liveness.score(frame.image, encoded)
        return observed

    def _follow(self, track: Track, encoding: np.ndarray, frame: Frame) -> None:
        """Keep the track's encoding; a face that no longer matches it is a new appearance."""
        same_face = self.threshold_rule.one_to_one()
        if track.encoding is not None and face_distance(encoding[None], track.encoding[None])[0, 0] > same_face:
            old_id = self.tracker.restart(track, frame.monotonic)
            if (decision := self._end_track(frame, old_id)) is not None:
                self._abandoned.append(decision)
        track.encoding = encoding

    def _label(self, track: Track, match: Match[int], frame: Frame) -> None:
        status = self.gallery.status_of(match.identity) if match.identity is not None else None
        if status is None:
            track.label, track.state, track.person_id = "Unknown", FaceState.UNKNOWN, None
        elif track.liveness_failed:  # whoever holds the photo is not shown as the person in it
            track.label, track.state, track.person_id = LIVENESS_FAILED_LABEL, FaceState.REFUSED, status.person_id
        else:
            granted = judge(status, frame.wall, self.door_check)[0] is Outcome.GRANTED
            state = FaceState.KNOWN if granted else FaceState.REFUSED
            track.label, track.state, track.person_id = status.name, state, status.person_id
            if granted and not track.decided:  # challenge at once: the person answers while the votes are counted
                self.liveness.start(track.track_id, frame.monotonic)

    def _decide(self, frame: Frame, track: Track, observation: Observation) -> DecisionView | None:
        decision = self.policy.observe(observation)
        # only a decision about a recognised person (logged or withheld by the cooldown) is final for
        # this appearance: after "unknown" or "low quality" the face keeps being encoded every frame
        # (it may turn sharp, or be enrolled meanwhile)
        track.decided = self.policy.settled(track.track_id)
        if decision is None:
            return None
        snapshot = _snapshot(frame.image, track)
        if decision.granted and self.liveness.enabled:
            self._held[track.track_id] = _Held(decision, snapshot, track.first_seen, track.box_id)
            self.liveness.start(track.track_id, frame.monotonic)
            return None
        return self._emit(decision, snapshot, track.first_seen, None, track.box_id)

    def _check_liveness(self, frame: Frame, tracks: list[Track]) -> list[DecisionView]:
        """Feed this frame's landmarks to the faces' challenges; release the held votes whose checks are settled."""
        if not self.liveness.enabled:
            return []
        for track in tracks:
            self.liveness.observe(track.track_id, track.face, frame.monotonic)
        released, self._abandoned = self._abandoned, []
        for track_id in list(self._held):
            if (verdict := self.liveness.verdict(track_id, frame.monotonic)) is not None:
                released.append(self._release(track_id, verdict, frame))
        return released

    def _end_track(self, frame: Frame, track_id: int) -> DecisionView | None:
        """Forget an ended appearance; a vote still held for it is logged as NOT_LIVE (the face left first)."""
        self.policy.end_track(track_id)
        if track_id not in self._held:
            self.liveness.end(track_id)
            return None
        verdict = self.liveness.verdict(track_id, frame.monotonic)
        if verdict is None or verdict.passed:  # a pass on the face's last frame still counts
            left = LivenessVerdict(
                self.liveness.mode, False, None, None, "The face left before the liveness check ended."
            )
            verdict = verdict or left
        return self._release(track_id, verdict, frame)

    def _release(self, track_id: int, verdict: LivenessVerdict, frame: Frame) -> DecisionView:
        held = self._held.pop(track_id)
        self.liveness.end(track_id)
        decision = replace(held.decision, time=frame.wall)
        if not verdict.passed:
            if (track := self.tracker.tracks.get(track_id)) is not None:
                track.liveness_failed = True
                track.label, track.state = LIVENESS_FAILED_LABEL, FaceState.REFUSED
            name = decision.person.name if decision.person is not None else "The face"
            decision = replace(decision, outcome=Outcome.NOT_LIVE, message=f"{name}: {verdict.detail}")
        record = LivenessRecord(verdict.mode.value, verdict.passed, verdict.live_score, verdict.motion)
        return self._emit(decision, held.snapshot, held.first_seen, record, held.box_id)

    def _limit_rate(self, frame: Frame) -> list[DecisionView]:
        """Count this frame's decisions per face box; pause each box refused too often (a box that has
        left is not counted: there is nothing to pause)."""
        outcomes, self._outcomes = self._outcomes, []
        boxes = {track.box_id: track for track in self.tracker.tracks.values()}
        alerts: list[DecisionView] = []
        for box_id, outcome in outcomes:
            track = boxes.get(box_id)
            if track is not None and (seconds := self.rate_limit.record(box_id, outcome, frame.monotonic)):
                alerts += self._pause(frame, track, seconds)
        return alerts

    def _pause(self, frame: Frame, track: Track, seconds: float) -> list[DecisionView]:
        """Stop judging ``track`` for ``seconds``: its votes and checks are forgotten (a vote held for the
        liveness check is refused) and the pause is logged once, as an alert with the face's snapshot."""
        held = self._end_track(frame, track.track_id)
        track.paused_until = frame.monotonic + seconds
        message = f"Too many denied attempts by one face: recognition paused for {seconds:g} s."
        alert = Decision(Outcome.RATE_LIMITED, frame.wall, track.track_id, None, None, None, message)
        shown = self._emit(alert, _snapshot(frame.image, track), track.first_seen, None)
        return [held, shown] if held is not None else [shown]

    def _resume(self, frame: Frame, tracks: list[Track]) -> None:
        """Judge the face boxes whose pause has ended afresh, as new appearances."""
        for track in tracks:
            if track.paused_until is not None and frame.monotonic >= track.paused_until:
                self.tracker.restart(track, frame.monotonic)

    def _emit(
        self,
        decision: Decision,
        snapshot: bytes,
        first_seen: float,
        liveness: LivenessRecord | None,
        box_id: int | None = None,
    ) -> DecisionView:
        """Open the door for a GRANTED decision, queue the event for the log, count it for the rate limit
        (``box_id``: the face box it is about), and describe it for the screen."""
        if box_id is not None:
            self._outcomes.append((box_id, decision.outcome))
        latency = self.clock.monotonic() - first_seen
        door_action = self._open_door(decision) if decision.granted else None
        logged = replace(decision, message=f"{decision.message} {door_action}") if door_action else decision
        self._unlogged.add(
            UnwrittenEvent(logged, self.door, self.pipeline.spec.id, latency * 1e3, snapshot, liveness, door_action)
        )
        return DecisionView(decision, self._enrolled_face(decision), latency)

    def _open_door(self, decision: Decision) -> str | None:
        """Unlock the door output (if any) for a granted decision; returns what the door did, for the log."""
        if self.door_output is None:
            return None
        try:
            pulse = self.door_output.unlock(self._badge(decision))
        except DoorError as error:
            return f"The door did not open: {error}"
        return f"Door unlocked for {pulse:g} s."

    def _view(self, track: Track, now: float) -> FaceView:
        x1, y1, x2, y2 = (float(v) for v in track.face.box)
        if track.paused_until is not None:
            label = PAUSED_LABEL.format(seconds=math.ceil(track.paused_until - now))
            return FaceView(track.track_id, (x1, y1, x2, y2), label, FaceState.PAUSED)
        challenge = self.liveness.view(track.track_id, now)
        if challenge is not None:
            return FaceView(track.track_id, (x1, y1, x2, y2), challenge.move.prompt, FaceState.CHECKING)
        return FaceView(track.track_id, (x1, y1, x2, y2), track.label, track.state)

    def _badge(self, decision: Decision) -> str | None:
        """The person's badge, for a door output that tells it to an access panel (None if none or unreadable)."""
        if decision.person is None:
            return None
        try:
            return self.store.person(decision.person.person_id).badge
        except (StoreError, NotFoundError):  # busy, or erased meanwhile: the panel gets no badge
            return None

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


def _due(track: Track, now: float) -> bool:
    """Whether ``track``'s face is to be encoded now: new or undecided faces every frame, decided ones
    every ``RECHECK`` seconds."""
    return track.encoded_at is None or not track.decided or now - track.encoded_at >= RECHECK


def _snapshot(image: np.ndarray, track: Track) -> bytes:
    return face_thumbnail(image, track.face.landmarks, size=SNAPSHOT_SIZE).jpeg
