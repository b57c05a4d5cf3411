"""Compare encodings: verification (1:1) and identification (1:K) over a gallery matrix.

Distances are Euclidean distances between encodings (the dlib ResNet was trained for that metric; two
photos of one person are typically below 0.6). Every query must come from the gallery's model.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from faceguard.core.errors import ModelMismatchError

#: Who a template belongs to: a person id at the door, a name in evaluations.
Identity = TypeVar("Identity", bound=Hashable)


@dataclass(frozen=True)
class Match(Generic[Identity]):
    """The nearest enrolled identity for one query.

    identity is None when the gallery is empty or the nearest distance exceeds the threshold;
    nearest is the closest identity regardless of the threshold; runner_up_distance is the distance to
    the closest *other* identity (inf when there is none), used to spot ambiguous matches.
    """

    identity: Identity | None
    nearest: Identity | None
    distance: float
    runner_up_distance: float
    threshold: float

    @property
    def accepted(self) -> bool:
        return self.identity is not None


def face_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between rows of ``a`` (M, D) and rows of ``b`` (N, D) → (M, N) float32."""
    a = np.atleast_2d(np.asarray(a, dtype=np.float32))
    b = np.atleast_2d(np.asarray(b, dtype=np.float32))
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
    distances: np.ndarray = np.sqrt(np.maximum(squared, 0.0))
    return distances


def verify(probe: np.ndarray, reference: np.ndarray, threshold: float) -> tuple[bool, float]:
    """1:1 — is ``probe`` the same person as ``reference`` (one or several templates)?

    Returns (same, distance) where distance is the smallest distance to any reference template.
    """
    distance = float(face_distance(probe, reference).min())
    return distance <= threshold, distance


class Gallery(Generic[Identity]):
    """All enrolled templates of one model as a single float32 matrix, several rows per identity.

    Each row stores an encoding g followed by ‖g‖², so one matrix-vector product with the probe
    [−2p, 1] yields ‖g‖² − 2 p·g for every row (the squared distance less the constant ‖p‖²).
    Rows are appended in place (amortised growth) and removed by compaction, so enrolment and
    deletion never rebuild the matrix from the database.
    """

    def __init__(self, model_id: str, dim: int, capacity: int = 1024) -> None:
        self.model_id = model_id
        self.dim = dim
        self._rows = np.empty((capacity, dim + 1), dtype=np.float32)
        self._codes = np.empty(capacity, dtype=np.int64)  # identity code of each row
        self._size = 0
        self._code_of: dict[Identity, int] = {}
        self._identity_of: dict[int, Identity] = {}
        self._next_code = 0

    def __len__(self) -> int:
        return self._size

    @property
    def identity_count(self) -> int:
        return len(self._code_of)

    @property
    def identities(self) -> set[Identity]:
        return set(self._code_of)

    def add(self, identity: Identity, encodings: np.ndarray, model_id: str) -> None:
        """Append one or more templates of ``identity`` (rows of ``encodings``)."""
        rows = np.atleast_2d(np.asarray(encodings, dtype=np.float32))
        self.extend([identity] * len(rows), rows, model_id)

    def extend(self, identities: Sequence[Identity], encodings: np.ndarray, model_id: str) -> None:
        """Append many templates at once: row i of ``encodings`` belongs to ``identities[i]``."""
        self._check_model(model_id)
        encodings = np.asarray(encodings, dtype=np.float32)
        if encodings.ndim != 2 or encodings.shape[1] != self.dim or len(encodings) != len(identities):
            raise ValueError(
                f"Expected {len(identities)} {self.dim}-d encodings, got an array of shape {encodings.shape}."
            )
        for identity in identities:
            if identity not in self._code_of:
                code, self._next_code = self._next_code, self._next_code + 1
                self._code_of[identity], self._identity_of[code] = code, identity
        start, end = self._size, self._size + len(encodings)
        if end > len(self._rows):
            self._grow(end)
        self._rows[start:end, : self.dim] = encodings
        self._rows[start:end, self.dim] = (encodings * encodings).sum(1)
        self._codes[start:end] = [self._code_of[identity] for identity in identities]
        self._size = end

    def remove(self, identity: Identity) -> int:
        """Drop every template of ``identity``; returns how many were removed."""
        code = self._code_of.pop(identity, None)
        if code is None:
            return 0
        del self._identity_of[code]
        keep = self._codes[: self._size] != code
        count = int(keep.sum())
        removed = self._size - count
        self._rows[:count] = self._rows[: self._size][keep]
        self._codes[:count] = self._codes[: self._size][keep]
        self._size = count
        return removed

    def identify(self, probes: np.ndarray, threshold: float, model_id: str) -> list[Match[Identity]]:
        """1:K — for each probe row, the nearest identity if its distance is within ``threshold``."""
        self._check_model(model_id)
        probes = np.atleast_2d(np.asarray(probes, dtype=np.float32))
        if not self._size:
            return [Match(None, None, float("inf"), float("inf"), threshold) for _ in probes]
        augmented = np.hstack([-2.0 * probes, np.ones((len(probes), 1), np.float32)])
        partial = self._rows[: self._size] @ augmented.T  # (rows, probes): ‖g‖² − 2 p·g
        return [
            self._best(np.ascontiguousarray(partial[:, i]), float(probe @ probe), threshold)
            for i, probe in enumerate(probes)
        ]

    def _best(self, partial: np.ndarray, probe_norm: float, threshold: float) -> Match[Identity]:
        codes = self._codes[: self._size]
        best_row = int(partial.argmin())
        best_code = int(codes[best_row])
        others = np.where(codes == best_code, np.inf, partial)
        runner_row = int(others.argmin())
        distance = _root(partial[best_row] + probe_norm)
        runner_up = _root(others[runner_row] + probe_norm)
        nearest = self._identity_of[best_code]
        return Match(nearest if distance <= threshold else None, nearest, distance, runner_up, threshold)

    def _grow(self, needed: int) -> None:
        capacity = max(needed, 2 * len(self._rows))
        rows = np.empty((capacity, self.dim + 1), dtype=np.float32)
        codes = np.empty(capacity, dtype=np.int64)
        rows[: self._size], codes[: self._size] = self._rows[: self._size], self._codes[: self._size]
        self._rows, self._codes = rows, codes

    def _check_model(self, model_id: str) -> None:
        if model_id != self.model_id:
            raise ModelMismatchError(
                f"Encodings from model '{model_id}' cannot be compared with this gallery of "
                f"'{self.model_id}' templates; re-encode the enrolled photos with one model."
            )


def _root(squared: float) -> float:
    """Distance from a squared distance (inf stays inf; rounding below zero clamps to 0)."""
    return float(np.sqrt(max(float(squared), 0.0)))
