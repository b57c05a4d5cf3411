"""What a distance threshold means on a model's calibration data: 1:1 (FAR, FRR) and at a door that
compares each face with everyone enrolled (1:N: FPIR, FNIR).

``resources/calibration/<model id>.json`` (written by ``benchmarks/calibration_distances.py``) holds
a model's distances on LFW View 1 DevTrain: ``genuine`` and ``impostor``, the listed same-person and
different-person pairs; ``genuine_all``, every same-person pair among the images of DevTrain's
people; ``nonmatch_tail``, the smallest of their different-person distances, and ``nonmatch_count``,
how many different-person pairs there are (about six million: FMR is measured down to ~1e-6).
``null`` marks a pair where a photo showed no face, which no threshold accepts. A pair is accepted
when ``distance <= threshold``, as in ``faceguard.evaluation.metrics``. Files of format
faceguard-calibration/1 (listed pairs only) are read with the listed pairs standing for all pairs.
Exported models may have no calibration file: ``Calibration.load`` then returns None.

Open-set (1:N) figures assume that a stranger's N comparisons are independent, so that
FPIR = 1 - (1 - FMR)^N, and take FNIR as FNMR: they ignore an enrolled person being matched to
someone else first, which is rare at thresholds strict enough for a door.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from faceguard.core.errors import FaceGuardError
from faceguard.core.paths import RESOURCES

CALIBRATION_DIR = RESOURCES / "calibration"
FORMAT = "faceguard-calibration/2"
FORMAT_1 = "faceguard-calibration/1"

#: Default site target: at most one stranger's appearance in 1000 let in; at a door that sees some
#: 100 strangers a day (visitors, couriers, tailgaters) about one false grant every ten days.
DEFAULT_MAX_FPIR = 0.001


class CalibrationError(FaceGuardError):
    """A calibration file exists but cannot be used, or cannot answer the question asked of it."""


@dataclass(frozen=True, eq=False)
class Calibration:
    """One model's calibration distances, each array sorted ascending (+inf for no-face pairs)."""

    model_id: str
    pairs_file: str
    genuine: np.ndarray
    impostor: np.ndarray
    genuine_all: np.ndarray
    nonmatch_tail: np.ndarray
    nonmatch_count: int

    @property
    def pairs(self) -> int:
        return self.genuine.size + self.impostor.size

    @property
    def source(self) -> str:
        """The pairs as people call them: "LFW DevTrain" for pairsDevTrain.txt."""
        return "LFW " + (Path(self.pairs_file).stem.removeprefix("pairs") or "pairs")

    @classmethod
    def load(cls, model_id: str, folder: Path = CALIBRATION_DIR) -> Calibration | None:
        """The calibration of model ``model_id`` (NAME@VERSION), None if it has none; CalibrationError
        when its file is unreadable or malformed."""
        path = folder / f"{model_id}.json"
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CalibrationError(f"The calibration file {path} cannot be read ({error}).") from None
        problem = _problem(data, model_id)
        if problem:
            raise CalibrationError(
                f"The calibration file {path} is unusable: {problem}. Write it again with "
                "benchmarks/calibration_distances.py."
            )
        if data["format"] == FORMAT_1:
            data = {
                **data,
                "genuine_all": data["genuine"],
                "nonmatch_count": len(data["impostor"]),
                "nonmatch_tail": [value for value in data["impostor"] if value is not None],
            }
        return cls(
            model_id=model_id,
            pairs_file=data["pairs_file"],
            genuine=_sorted_distances(data["genuine"]),
            impostor=_sorted_distances(data["impostor"]),
            genuine_all=_sorted_distances(data["genuine_all"]),
            nonmatch_tail=_sorted_distances(data["nonmatch_tail"]),
            nonmatch_count=data["nonmatch_count"],
        )

    def error_rates(self, threshold: float) -> tuple[float, float]:
        """(FAR, FRR) on the listed pairs as fractions when accepting ``distance <= threshold``."""
        accepted_impostors = np.searchsorted(self.impostor, threshold, side="right")
        accepted_genuine = np.searchsorted(self.genuine, threshold, side="right")
        rejected_genuine = self.genuine.size - accepted_genuine
        return float(accepted_impostors / self.impostor.size), float(rejected_genuine / self.genuine.size)

    def fmr(self, threshold: float) -> float:
        """False match rate: the share of all different-person pairs at ``distance <= threshold``."""
        return float(self._fmr(np.asarray(threshold, dtype=np.float64)))

    def site_threshold(self, max_fpir: float, gallery_size: int) -> float:
        """The largest threshold at which a stranger matches one of ``gallery_size`` enrolled people
        with probability at most ``max_fpir`` (0 or 1 enrolled: the 1:1 threshold at FMR ``max_fpir``).

        Midway between the last different-person distance it accepts and the first it must not.
        CalibrationError when even the smallest one is too many: the target needs an FMR below one
        pair in ``nonmatch_count``, which the data cannot measure (ask for a looser target).
        """
        if not 0.0 < max_fpir < 1.0:
            raise ValueError(f"max_fpir must lie strictly between 0 and 1, got {max_fpir}.")
        if gallery_size < 0:
            raise ValueError(f"gallery_size must not be negative, got {gallery_size}.")
        comparisons = max(gallery_size, 1)
        candidates, fmr = self._fmr_steps
        too_many = np.flatnonzero(_fpir(fmr, comparisons) > max_fpir)
        if too_many.size == 0:
            return float(candidates[-1])
        first = int(too_many[0])
        if first == 0:
            needed = -math.expm1(math.log1p(-max_fpir) / comparisons)
            raise CalibrationError(
                f"At most {max_fpir:.2g} of strangers matched with {gallery_size} people enrolled needs a false "
                f"match rate of {needed:.2g} per comparison, below what the {self.nonmatch_count} "
                f"different-person pairs calibrating {self.model_id} can measure; choose a looser target."
            )
        return float((candidates[first - 1] + candidates[first]) / 2)

    def open_set_rates(self, threshold: float, gallery_size: int) -> tuple[float, float]:
        """(FPIR, FNIR) expected at a door with ``gallery_size`` people enrolled: FPIR = 1 - (1 - FMR)^N,
        FNIR = FNMR, the share of all same-person pairs above ``threshold`` (see the module's assumptions)."""
        if gallery_size < 0:
            raise ValueError(f"gallery_size must not be negative, got {gallery_size}.")
        accepted = np.searchsorted(self.genuine_all, threshold, side="right")
        return float(_fpir(self.fmr(threshold), gallery_size)), float(1.0 - accepted / self.genuine_all.size)

    @cached_property
    def _fmr_steps(self) -> tuple[np.ndarray, np.ndarray]:
        """Every different-person distance measured, ascending, and the FMR at each: computed once, as
        the kiosk asks for its threshold on every frame it encodes."""
        candidates = np.unique(np.concatenate([self.nonmatch_tail, self.impostor[np.isfinite(self.impostor)]]))
        return candidates, self._fmr(candidates)

    def _fmr(self, thresholds: np.ndarray) -> np.ndarray:
        """FMR counted in the tail; past its largest distance, the listed impostor pairs' rate (a random
        sample of the different-person pairs), never below the whole tail's share."""
        counted = np.searchsorted(self.nonmatch_tail, thresholds, side="right") / self.nonmatch_count
        if self.nonmatch_tail.size == self.nonmatch_count:
            return counted
        sampled = np.searchsorted(self.impostor, thresholds, side="right") / self.impostor.size
        return np.where(thresholds < self.nonmatch_tail[-1], counted, np.maximum(counted, sampled))


def _fpir(fmr: float | np.ndarray, gallery_size: int) -> float | np.ndarray:
    """Chance that one of ``gallery_size`` independent comparisons matches, each with probability ``fmr``
    (``fmr`` itself for one comparison, where 1 - (1 - fmr) may round above it)."""
    return fmr if gallery_size == 1 else 1.0 - (1.0 - fmr) ** gallery_size


def _problem(data: Any, model_id: str) -> str | None:
    if not isinstance(data, dict) or data.get("format") not in (FORMAT, FORMAT_1):
        return f"it is not a FaceGuard calibration file (format {FORMAT})"
    if data.get("model_id") != model_id:
        return f"it is for model '{data.get('model_id')}', not '{model_id}'"
    if not isinstance(data.get("pairs_file"), str):
        return "the pairs file name is missing"
    lists = ("genuine", "impostor") if data["format"] == FORMAT_1 else ("genuine", "impostor", "genuine_all")
    for key in lists:
        problem = _distances_problem(key, data.get(key), nulls=True)
        if problem:
            return problem
    if data["format"] == FORMAT_1:
        return None
    problem = _distances_problem("nonmatch_tail", data.get("nonmatch_tail"), nulls=False)
    if problem:
        return problem
    count = data.get("nonmatch_count")
    if not isinstance(count, int) or isinstance(count, bool) or count < len(data["nonmatch_tail"]):
        return "'nonmatch_count' is not a whole number at least as long as 'nonmatch_tail'"
    return None


def _distances_problem(key: str, values: Any, nulls: bool) -> str | None:
    if not isinstance(values, list) or not values:
        return f"'{key}' is not a non-empty list of distances"
    if not all(
        (nulls and value is None)
        or (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0)
        for value in values
    ):
        return f"'{key}' holds something other than non-negative distances" + (" and nulls" if nulls else "")
    return None


def _sorted_distances(values: list[float | None]) -> np.ndarray:
    return np.sort(np.array([math.inf if value is None else value for value in values], dtype=np.float64))
