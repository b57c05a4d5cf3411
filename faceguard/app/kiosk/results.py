"""What the kiosk engine makes of a frame, as plain data for the screen (no engine imports, so the
window can use them without loading torch)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from faceguard.access.policy import Decision
from faceguard.app.kiosk.liveness import ChallengeView


class FaceState(StrEnum):
    """What the kiosk makes of a face so far (it colours the face's box)."""

    PENDING = "pending"  # not looked at yet
    KNOWN = "known"  # an enrolled person who may enter
    REFUSED = "refused"  # enrolled, but deactivated or outside their validity
    UNKNOWN = "unknown"  # matches nobody enrolled
    POOR = "poor"  # too small, blurred or turned away to recognise
    CHECKING = "checking"  # recognised, answering the liveness challenge (the label is the prompt)
    PAUSED = "paused"  # refused too often: not looked at until the pause ends (the label is the wait)


@dataclass(frozen=True)
class FaceView:
    """A face to draw: box (x1, y1, x2, y2) in frame pixels, its label and state."""

    track_id: int
    box: tuple[float, float, float, float]
    label: str
    state: FaceState


@dataclass(frozen=True)
class DecisionView:
    """A decision with what the banner shows: the person's enrolled face (JPEG) and the latency
    from the face's first frame to the decision."""

    decision: Decision
    thumbnail: bytes | None
    latency: float


@dataclass(frozen=True)
class FrameResult:
    """What one frame gave. ``unlogged``: decisions still waiting to be written to the access log,
    with ``log_problem`` saying why (None once everything is written). ``gallery_problem``: how many
    enrolled people this model cannot recognise until they are re-encoded (None when there are none).
    ``door_problem``: why the door output is out of service (None while it works or without one).
    ``challenges``: the liveness challenges running, for the screen's prompt."""

    frame_index: int
    frame_time: float  # the frame's monotonic capture time
    faces: tuple[FaceView, ...]
    decisions: tuple[DecisionView, ...]
    timings: dict[str, float]  # milliseconds: detect, encode, total
    unlogged: int = 0
    log_problem: str | None = None
    gallery_problem: str | None = None
    door_problem: str | None = None
    challenges: tuple[ChallengeView, ...] = ()
