"""The access policy of a door kiosk: per-frame face matches in, at most one decision per event out.

The kiosk's tracker gives each continuously visible face a track id; every frame yields one
``Observation`` per track, dated by the caller (the policy reads no clock) on both clocks of
``faceguard.core.clock``: monotonic seconds, expected not to decrease, for everything measured in
seconds (window, cooldown, track timeout), so setting the wall clock changes no vote; UTC wall time
for the validity check and the decision's time. Match identities are person ids. Rules of
``AccessPolicy.observe``:

1. Per track, the last ``n`` observations whose time is within ``window`` of the newest one vote,
   one vote each: for ``match.identity`` (an accepted match), "ambiguous" (an accepted match whose
   runner-up is also within the threshold and less than ``ambiguity_margin`` times the threshold
   farther away: relative, so it means the same for every model's distance scale),
   "unknown" (a match with identity None) or "low quality" (match None: the face was not encoded).
2. An identity wins with >= k votes when no other identity has any vote (ambiguous votes do not
   block it). When identities and ambiguous votes together hold >= k votes but none wins →
   AMBIGUOUS. Otherwise >= k unknown votes → UNKNOWN, then >= k low-quality votes → LOW_QUALITY;
   fewer than k of anything → no decision yet.
3. A winner is checked with ``status_of`` at the observation's wall time (``standing``): None
   (deleted) → UNKNOWN, inactive → INACTIVE, outside valid_from..valid_until → EXPIRED; then, with a
   ``door_check`` (the site's door rules at this kiosk's door, ``faceguard.access.door_rules``), a
   person its verdict refuses → NOT_ALLOWED, its reason the message; else GRANTED.
4. One event per appearance: a track emits each (outcome, person) at most once in its lifetime, and
   once it has decided about a person it logs no unknown / ambiguous / low-quality event after it (a
   person admitted and then turning away to walk through is not also "rejected").
5. Cooldown: after a decision about a person at time t, no track decides about them before
   t + cooldown. A decision withheld by the cooldown still counts as the track's event (rule 4), so
   a person who stays at the door is not admitted again when the cooldown ends.
6. Tracks silent for more than ``track_timeout`` are dropped on the next observation and
   ``end_track`` drops one at once; finished cooldowns are dropped too, so memory stays bounded.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from statistics import median

from faceguard.access.door_rules import DoorRules, DoorVerdict
from faceguard.core.clock import local_date
from faceguard.matching.gallery import Match


class DecisionWord(StrEnum):
    """The access log's "decision" column, in the order the schema's CHECK and the log's filters list them."""

    GRANTED = "granted"
    DENIED = "denied"
    UNKNOWN = "unknown"
    REJECTED_QUALITY = "rejected-quality"


class Outcome(StrEnum):
    """The reason of a decision."""

    GRANTED = "granted"
    UNKNOWN = "unknown"  # a face that matches nobody enrolled
    INACTIVE = "inactive"  # recognised, but the person is deactivated
    EXPIRED = "expired"  # recognised, but outside valid_from..valid_until
    AMBIGUOUS = "ambiguous"  # two enrolled identities compete
    LOW_QUALITY = "low_quality"  # the face is too small / blurred / turned away to decide
    MISMATCH = "mismatch"  # 1:1 verification: the face is not the claimed person
    NOT_LIVE = "not_live"  # recognised, but the liveness check failed (a photo, a screen, no head movement)
    NOT_ALLOWED = "not_allowed"  # recognised, but the door rules refuse: not their group's door, hours or a holiday
    RATE_LIMITED = "rate_limited"  # an alert: one face track was refused too often, its recognition is paused

    @property
    def decision(self) -> DecisionWord:
        """The access log's word for this outcome: granted, unknown, rejected-quality or denied."""
        if self is Outcome.GRANTED:
            return DecisionWord.GRANTED
        if self is Outcome.UNKNOWN:
            return DecisionWord.UNKNOWN
        return DecisionWord.REJECTED_QUALITY if self is Outcome.LOW_QUALITY else DecisionWord.DENIED


@dataclass(frozen=True)
class PersonStatus:
    """An enrolled person's access rights; valid_from / valid_until are UTC epoch seconds (POSIX
    timestamps, which the store reads cheaply), None = no limit; ``group`` their access group (None: none)."""

    person_id: int
    name: str
    active: bool
    valid_from: float | None
    valid_until: float | None
    group: str | None = None


@dataclass(frozen=True)
class Observation:
    """One frame's result for one track, at ``monotonic`` seconds and ``wall`` time (UTC); match is None
    when the face was too poor to encode."""

    monotonic: float
    wall: datetime
    track_id: int
    match: Match[int] | None


@dataclass(frozen=True)
class Decision:
    """An access event. person is the recognised / claimed person (None for unknown, ambiguous and
    low quality); distance is the median distance of the winning votes (or the 1:1 distance);
    time is when it was decided (UTC)."""

    outcome: Outcome
    time: datetime
    track_id: int | None
    person: PersonStatus | None
    distance: float | None
    threshold: float | None
    message: str

    @property
    def granted(self) -> bool:
        return self.outcome is Outcome.GRANTED

    @property
    def decision(self) -> str:
        return self.outcome.decision


@dataclass(frozen=True)
class PolicyConfig:
    """k votes among the last n frames (within window seconds) decide; times are in seconds."""

    k: int = 3
    n: int = 5
    window: float = 2.0
    cooldown: float = 10.0
    ambiguity_margin: float = 0.05  # of the threshold (0.03 at dlib's 0.6, where it was fitted)
    track_timeout: float = 3.0

    def __post_init__(self) -> None:
        if not 1 <= self.k <= self.n:
            raise ValueError(f"k must be between 1 and n ({self.n}), got {self.k}.")
        for name in ("window", "cooldown", "track_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {getattr(self, name)}.")
        if not self.ambiguity_margin >= 0:
            raise ValueError(f"ambiguity_margin must not be negative, got {self.ambiguity_margin}.")


StatusLookup = Callable[[int], PersonStatus | None]
"""Person id → current status, None if the person was deleted. Called on every frame that has a
winning identity (the status may change while a person stands at the door), so keep it cheap."""

DoorCheck = Callable[[PersonStatus, datetime], DoorVerdict]
"""Whether the door rules let a person in good standing through this door at an aware moment."""


def door_check(rules: DoorRules, door: str) -> DoorCheck:
    """The check of ``rules`` at ``door`` for a person of the group in their status."""
    return lambda person, at: rules.decide([person.group] if person.group else [], door, at)


@dataclass(frozen=True)
class _Vote:
    time: float
    key: int | Outcome  # a person id, or Outcome.AMBIGUOUS / UNKNOWN / LOW_QUALITY
    match: Match[int] | None


@dataclass(frozen=True)
class _Verdict:
    """What the votes decide before the status check: an outcome, or a winning person id."""

    winner: int | Outcome
    votes: list[_Vote]


@dataclass
class _Track:
    votes: deque[_Vote]
    last_seen: float
    emitted: set[tuple[Outcome, int | None]] = field(default_factory=set)


class AccessPolicy:
    """Turns a stream of observations into decisions (see the module docstring for the rules)."""

    def __init__(
        self, status_of: StatusLookup, config: PolicyConfig = PolicyConfig(), door_check: DoorCheck | None = None
    ) -> None:
        """``door_check``: the door rules a person in good standing must pass too (None: none)."""
        self._status_of = status_of
        self._door_check = door_check
        self._config = config
        self._tracks: dict[int, _Track] = {}
        self._cooldown_until: dict[int, float] = {}

    @property
    def config(self) -> PolicyConfig:
        return self._config

    def reconfigure(self, config: PolicyConfig) -> None:
        """Apply new rules from the next observation on; tracks keep their newest ``n`` votes and
        cooldowns already running keep their end."""
        self._config = config
        for track in self._tracks.values():
            track.votes = deque(track.votes, maxlen=config.n)

    @property
    def active_tracks(self) -> frozenset[int]:
        """Ids of the tracks held in memory (silent ones are dropped at the next observation)."""
        return frozenset(self._tracks)

    def observe(self, observation: Observation) -> Decision | None:
        """Add one frame's observation; returns a decision when this frame settles a new event."""
        now = observation.monotonic
        self._forget(now)
        track = self._tracks.get(observation.track_id)
        if track is None:
            track = self._tracks[observation.track_id] = _Track(deque(maxlen=self._config.n), now)
        track.last_seen = now
        track.votes.append(_vote(observation, self._config.ambiguity_margin))
        recent = [vote for vote in track.votes if now - vote.time <= self._config.window]
        verdict = _tally(recent, self._config.k)
        if verdict is None:
            return None
        decision = self._decide(verdict, observation)
        person_id = decision.person.person_id if decision.person is not None else None
        if (decision.outcome, person_id) in track.emitted:
            return None
        if person_id is None and any(known is not None for _, known in track.emitted):
            return None
        track.emitted.add((decision.outcome, person_id))
        if person_id is None:
            return decision
        if self._cooldown_until.get(person_id, -math.inf) > now:
            return None
        self._cooldown_until[person_id] = now + self._config.cooldown
        return decision

    def settled(self, track_id: int) -> bool:
        """Whether the track's appearance is decided about a recognised person (logged, or withheld
        by the cooldown): later frames of it can change nothing but a new person's face."""
        track = self._tracks.get(track_id)
        return track is not None and any(person is not None for _, person in track.emitted)

    def end_track(self, track_id: int) -> None:
        """Forget a track the tracker has lost (its next appearance is a new event)."""
        self._tracks.pop(track_id, None)

    def _forget(self, now: float) -> None:
        timeout = self._config.track_timeout
        for track_id in [tid for tid, track in self._tracks.items() if now - track.last_seen > timeout]:
            del self._tracks[track_id]
        for person_id in [pid for pid, until in self._cooldown_until.items() if until <= now]:
            del self._cooldown_until[person_id]

    def _decide(self, verdict: _Verdict, observation: Observation) -> Decision:
        distance, threshold = _median_distance(verdict.votes), _threshold(verdict.votes)
        person = None if isinstance(verdict.winner, Outcome) else self._status_of(verdict.winner)
        if person is not None:
            outcome, message = judge(person, observation.wall, self._door_check)
        else:  # a winner deleted meanwhile is unknown now
            outcome = verdict.winner if isinstance(verdict.winner, Outcome) else Outcome.UNKNOWN
            message = _MESSAGES[outcome]
        return Decision(outcome, observation.wall, observation.track_id, person, distance, threshold, message)


def verify_claim(
    person: PersonStatus,
    same: bool,
    distance: float,
    threshold: float,
    now: datetime,
    door_check: DoorCheck | None = None,
) -> Decision:
    """1:1 verification at ``now`` (UTC): a claimed badge's person, and whether the face matched their
    templates (``same``, as ``matching.gallery.verify`` decided it at ``threshold``, from ``distance``);
    ``door_check``: the door rules of the door it is for (None: none)."""
    if not same:
        outcome, message = Outcome.MISMATCH, f"The face does not match {person.name}."
    else:
        outcome, message = judge(person, now, door_check)
    return Decision(outcome, now, None, person, distance, threshold, message)


_MESSAGES = {
    Outcome.UNKNOWN: "Unknown face.",
    Outcome.AMBIGUOUS: "The face resembles more than one enrolled person.",
    Outcome.LOW_QUALITY: "The face is not clear enough; please look at the camera.",
}


class Standing(StrEnum):
    """Whether a person may enter at a given moment, as an administrator reads it."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    NOT_YET_VALID = "not yet valid"
    EXPIRED = "expired"


def standing(person: PersonStatus, now: datetime) -> Standing:
    """The validity rule: ``person``'s standing at the aware moment ``now``."""
    moment = now.timestamp()
    if not person.active:
        return Standing.INACTIVE
    if person.valid_from is not None and moment < person.valid_from:
        return Standing.NOT_YET_VALID
    if person.valid_until is not None and moment > person.valid_until:
        return Standing.EXPIRED
    return Standing.ACTIVE


def judge(person: PersonStatus, now: datetime, door_check: DoorCheck | None = None) -> tuple[Outcome, str]:
    """The outcome for a recognised person at the aware moment ``now`` (granted, inactive, expired or,
    when ``door_check`` refuses them, not allowed), with its message."""
    match standing(person, now):
        case Standing.INACTIVE:
            return Outcome.INACTIVE, f"{person.name} is deactivated."
        case Standing.NOT_YET_VALID:
            return Outcome.EXPIRED, f"{person.name} is not valid until {_date(person.valid_from)}."
        case Standing.EXPIRED:
            return Outcome.EXPIRED, f"{person.name} was valid until {_date(person.valid_until)}."
        case Standing.ACTIVE:
            if door_check is not None and not (verdict := door_check(person, now)).allowed:
                return Outcome.NOT_ALLOWED, f"{person.name}: {verdict.reason}"
            return Outcome.GRANTED, f"Access granted: {person.name}."


def _vote(observation: Observation, margin: float) -> _Vote:
    match = observation.match
    if match is None:
        key: int | Outcome = Outcome.LOW_QUALITY
    elif match.identity is None:
        key = Outcome.UNKNOWN
    elif (
        match.runner_up_distance <= match.threshold
        and match.runner_up_distance - match.distance < margin * match.threshold
    ):
        key = Outcome.AMBIGUOUS
    else:
        key = match.identity
    return _Vote(observation.monotonic, key, match)


def _tally(votes: list[_Vote], k: int) -> _Verdict | None:
    """Rule 2: the verdict of the recent votes, or None while nothing has k votes."""
    by_key: dict[int | Outcome, list[_Vote]] = {}
    for vote in votes:
        by_key.setdefault(vote.key, []).append(vote)
    people = [key for key in by_key if not isinstance(key, Outcome)]
    if len(people) == 1 and len(by_key[people[0]]) >= k:
        return _Verdict(people[0], by_key[people[0]])
    contested = [vote for vote in votes if vote.key is Outcome.AMBIGUOUS or not isinstance(vote.key, Outcome)]
    if len(contested) >= k:
        return _Verdict(Outcome.AMBIGUOUS, contested)
    for outcome in (Outcome.UNKNOWN, Outcome.LOW_QUALITY):
        if len(by_key.get(outcome, [])) >= k:
            return _Verdict(outcome, by_key[outcome])
    return None


def _median_distance(votes: list[_Vote]) -> float | None:
    """Median distance of the votes' matches; None without matches or when infinite (empty gallery)."""
    distances = [vote.match.distance for vote in votes if vote.match is not None]
    if not distances or not math.isfinite(middle := median(distances)):
        return None
    return float(middle)


def _threshold(votes: list[_Vote]) -> float | None:
    return next((vote.match.threshold for vote in reversed(votes) if vote.match is not None), None)


def _date(epoch: float | None) -> str:
    """The calendar date in the kiosk's local time zone (validity is entered in local time)."""
    assert epoch is not None  # only asked for a limit the person has
    return local_date(datetime.fromtimestamp(epoch, UTC)).isoformat()
