"""A simple IoU tracker: a face that stays in place keeps its track id from frame to frame.

Each frame's detections are matched greedily to the live tracks by box overlap (highest IoU first);
unmatched detections start new tracks, and tracks unseen for ``max_age`` seconds end. This is what
lets the kiosk encode a face only when needed and lets the access policy vote per appearance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import count

import numpy as np

from faceguard.app.kiosk.results import FaceState
from faceguard.core.types import Face


@dataclass
class Track:
    """One face followed across frames; times are monotonic seconds (``faceguard.core.clock``).
    ``encoded_at`` is when it was last encoded (None = never). ``box_id`` is the id the box was first
    followed under: a restart gives the track a new id but keeps it (whoever holds up one face after
    another in the same place is the same visitor to the rate limit)."""

    track_id: int
    face: Face
    first_seen: float
    last_seen: float
    encoded_at: float | None = None
    decided: bool = False  # the access policy has decided about a recognised person in this appearance
    label: str = ""
    state: FaceState = FaceState.PENDING
    person_id: int | None = None
    encoding: np.ndarray | None = None  # the face's latest encoding
    liveness_failed: bool = False  # recognised, but refused by the liveness check in this appearance
    paused_until: float | None = None  # refused too often: not looked at before then (the rate limit's pause)
    box_id: int = field(init=False)

    def __post_init__(self) -> None:
        self.box_id = self.track_id


@dataclass
class IouTracker:
    min_iou: float = 0.3
    max_age: float = 0.7
    tracks: dict[int, Track] = field(default_factory=dict)
    _ids: count[int] = field(default_factory=lambda: count(1))

    def update(self, faces: Sequence[Face], now: float) -> tuple[list[Track], list[int]]:
        """Assign ``faces`` (seen at ``now``, monotonic seconds) to tracks; returns (the tracks seen now,
        ended track ids).

        Tracks unseen for more than ``max_age`` end first, so a face that returns after a pause in
        frames (a camera stall, a reconnection) is a new appearance."""
        ended = [tid for tid, track in self.tracks.items() if now - track.last_seen > self.max_age]
        for tid in ended:
            del self.tracks[tid]
        live = list(self.tracks.values())
        pairs = sorted(
            ((iou(track.face.box, face.box), t, f) for t, track in enumerate(live) for f, face in enumerate(faces)),
            key=lambda pair: -pair[0],
        )
        taken_tracks: set[int] = set()
        assigned: dict[int, Track] = {}
        for overlap, t, f in pairs:
            if overlap < self.min_iou:
                break
            if t in taken_tracks or f in assigned:
                continue
            taken_tracks.add(t)
            track = live[t]
            track.face, track.last_seen = faces[f], now
            assigned[f] = track
        for f, face in enumerate(faces):
            if f not in assigned:
                track = Track(next(self._ids), face, first_seen=now, last_seen=now)
                self.tracks[track.track_id] = track
                assigned[f] = track
        return [assigned[f] for f in range(len(faces))], ended

    def restart(self, track: Track, now: float) -> int:
        """Give ``track`` a new id and start its appearance afresh (the box was followed, but the face
        in it changed: one person left and another stepped into the same place; or its pause ended).
        Returns the old id."""
        old_id = track.track_id
        del self.tracks[old_id]
        track.track_id, track.first_seen, track.decided = next(self._ids), now, False
        track.liveness_failed, track.paused_until = False, None
        self.tracks[track.track_id] = track
        return old_id


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union)
