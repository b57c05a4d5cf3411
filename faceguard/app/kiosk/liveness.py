"""The kiosk's presentation-attack defence: per face track, the active challenge and the passive score.

The site's ``LivenessMode`` says which checks a recognised face must pass before the door opens:
the active challenge (``faceguard.access.liveness``: a random head turn judged from the landmarks), the
passive model (``faceguard.vision.passive_liveness``: MiniFASNet's live probability, averaged over
the last ``PASSIVE_WINDOW`` scored frames), or both. The gate starts a face's challenge as soon as it
is recognised, so the person answers while the votes are being counted, and gives a ``LivenessVerdict``
once every check the mode asks for is settled.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from faceguard.access.liveness import (
    Challenge,
    ChallengeConfig,
    ChallengeState,
    LivenessMode,
    Move,
    PoseReading,
    new_challenge,
)
from faceguard.app.settings import KioskSettings
from faceguard.core.types import Face
from faceguard.vision.face_plane import nose_offset, yaw_ratio

if TYPE_CHECKING:  # the model (torch) is passed in
    from faceguard.vision.passive_liveness import PassiveLiveness

#: Live scores averaged for the passive decision (the voting window's frames).
PASSIVE_WINDOW = 5
#: The passive model's default live threshold: MiniFASNet's own decision point.
DEFAULT_LIVE_THRESHOLD = 0.5
#: What each mode costs, for the admin settings: the median time a person takes to answer the
#: challenge (``faceguard bench-liveness``, docs/bench-liveness.json) and the passive model's time per
#: face and encoded frame on one CPU thread (benchmarks/bench_passive_liveness.py).
ACTIVE_ADDED_SECONDS = 1.1
PASSIVE_MS_PER_FACE = 25.0


@dataclass(frozen=True)
class LivenessVerdict:
    """What the checks made of a face: ``passed``, the mean live score (passive) and the largest head
    movement towards the asked move in inter-eye distances (active), and why in words."""

    mode: LivenessMode
    passed: bool
    live_score: float | None
    motion: float | None
    detail: str


@dataclass(frozen=True)
class ChallengeView:
    """What the kiosk shows for a face's running challenge."""

    track_id: int
    move: Move
    seconds_left: float
    progress: float  # 0..1 towards the asked move
    nod_accepted: bool


def liveness_gate(settings: KioskSettings) -> LivenessGate:
    """The gate the settings choose, with the site's passive model loaded when the mode needs it
    (raises LivenessModelError naming the file when it cannot be read)."""
    mode = settings.liveness_mode
    passive = None
    if mode.passive:
        from faceguard.vision.passive_liveness import PassiveLiveness  # torch: in the inference thread

        passive = PassiveLiveness.load(Path(settings.liveness_models), device=settings.device)
    return LivenessGate(mode, settings.challenge(), passive, settings.live_threshold)


def liveness_settings_changed(old: KioskSettings, new: KioskSettings) -> bool:
    fields = ("liveness", "liveness_timeout", "liveness_both_ways", "liveness_models", "live_threshold", "device")
    return any(getattr(old, name) != getattr(new, name) for name in fields)


def pose_reading(face: Face, now: float) -> PoseReading:
    """The challenge's measurements of one detected face."""
    offset = nose_offset(face.landmarks)
    return PoseReading(now, float(offset[0]), float(offset[1]), yaw_ratio(face.landmarks), face.score)


@dataclass
class _FaceChecks:
    challenge: Challenge | None
    scores: deque[float] = field(default_factory=lambda: deque(maxlen=PASSIVE_WINDOW))


class LivenessGate:
    """Liveness checks of the faces the kiosk follows, by track id."""

    def __init__(
        self,
        mode: LivenessMode,
        config: ChallengeConfig | None = None,
        passive: PassiveLiveness | None = None,
        live_threshold: float = DEFAULT_LIVE_THRESHOLD,
        rng: random.Random | None = None,
    ) -> None:
        if mode.passive and passive is None:
            raise ValueError(f"Liveness mode {mode} needs the passive model.")
        self.mode, self.passive, self.live_threshold = mode, passive, live_threshold
        self.config = config or ChallengeConfig()
        self._rng = rng or random.SystemRandom()
        self._faces: dict[int, _FaceChecks] = {}

    @property
    def enabled(self) -> bool:
        return self.mode is not LivenessMode.OFF

    def start(self, track_id: int, now: float) -> None:
        """Begin checking a recognised face (its challenge starts now); a face already checked keeps its checks."""
        if self.enabled and track_id not in self._faces:
            challenge = new_challenge(now, self.config, self._rng) if self.mode.active else None
            self._faces[track_id] = _FaceChecks(challenge)

    def checking(self, track_id: int) -> bool:
        return track_id in self._faces

    def observe(self, track_id: int, face: Face, now: float) -> None:
        """Feed one frame's landmarks of the face to its challenge."""
        checks = self._faces.get(track_id)
        if checks is not None and checks.challenge is not None:
            checks.challenge.feed(pose_reading(face, now))

    def score(self, image: np.ndarray, faces: dict[int, Face]) -> None:
        """Score the faces being checked with the passive model (the kiosk calls it on encoded frames)."""
        if self.passive is None:
            return
        checked = {tid: face for tid, face in faces.items() if tid in self._faces}
        if checked:
            for tid, live in zip(checked, self.passive.score_many(image, list(checked.values()))):
                self._faces[tid].scores.append(live)

    def verdict(self, track_id: int, now: float) -> LivenessVerdict | None:
        """The face's verdict once every check of the mode is settled (None while one is still open);
        a face never started gets none."""
        checks = self._faces.get(track_id)
        if checks is None:
            return None
        challenge = checks.challenge
        if challenge is not None and challenge.expire(now) is ChallengeState.WAITING:
            return None
        live = float(np.mean(checks.scores)) if checks.scores else None
        if self.mode.passive and live is None:
            return None
        problems = []
        if challenge is not None and challenge.state is ChallengeState.FAILED:
            problems.append(f"{challenge.asking.missing} within {self.config.timeout:g} s")
        if live is not None and live < self.live_threshold:
            problems.append(f"the face looks like a photo or a screen (live score {live:.2f})")
        motion = challenge.motion if challenge is not None else None
        detail = "Liveness check failed: " + "; ".join(problems) + "." if problems else "Liveness check passed."
        return LivenessVerdict(self.mode, not problems, live, motion, detail)

    def view(self, track_id: int, now: float) -> ChallengeView | None:
        """The face's running challenge for the screen (None if it has none or it is over)."""
        checks = self._faces.get(track_id)
        challenge = checks.challenge if checks is not None else None
        if challenge is None or challenge.state is not ChallengeState.WAITING:
            return None
        return ChallengeView(
            track_id, challenge.asking, challenge.seconds_left(now), challenge.progress, challenge.accepts_nod()
        )

    def end(self, track_id: int) -> None:
        """Forget a face (its track ended, or its decision is made)."""
        self._faces.pop(track_id, None)
