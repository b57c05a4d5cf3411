"""What a distance threshold means: the FAR and FRR it gives on a model's calibration pairs.

``resources/calibration/<model id>.json`` (written by ``benchmarks/calibration_distances.py``) holds
the distances of a model on LFW View 1 DevTrain pairs: ``genuine`` (same person) and ``impostor``
(different people); ``null`` marks a pair where a photo showed no face, which no threshold accepts.
A pair is accepted when ``distance <= threshold``, as in ``faceguard.evaluation.metrics``. Exported
models may have no calibration file: ``Calibration.load`` then returns None.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from faceguard.errors import FaceGuardError
from faceguard.paths import RESOURCES

CALIBRATION_DIR = RESOURCES / "calibration"
FORMAT = "faceguard-calibration/1"


class CalibrationError(FaceGuardError):
    """A calibration file exists but cannot be used."""


@dataclass(frozen=True, eq=False)
class Calibration:
    """One model's calibration distances, each array sorted ascending (+inf for no-face pairs)."""

    model_id: str
    pairs_file: str
    genuine: np.ndarray
    impostor: np.ndarray

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
            raise CalibrationError(f"The calibration file {path} is unusable: {problem}. Write it again with "
                                   "benchmarks/calibration_distances.py.")
        return cls(model_id=model_id, pairs_file=data["pairs_file"],
                   genuine=_sorted_distances(data["genuine"]), impostor=_sorted_distances(data["impostor"]))

    def error_rates(self, threshold: float) -> tuple[float, float]:
        """(FAR, FRR) as fractions when accepting ``distance <= threshold``."""
        accepted_impostors = np.searchsorted(self.impostor, threshold, side="right")
        accepted_genuine = np.searchsorted(self.genuine, threshold, side="right")
        rejected_genuine = self.genuine.size - accepted_genuine
        return float(accepted_impostors / self.impostor.size), float(rejected_genuine / self.genuine.size)


def _problem(data: Any, model_id: str) -> str | None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return f"it is not a FaceGuard calibration file (format {FORMAT})"
    if data.get("model_id") != model_id:
        return f"it is for model '{data.get('model_id')}', not '{model_id}'"
    if not isinstance(data.get("pairs_file"), str):
        return "the pairs file name is missing"
    for key in ("genuine", "impostor"):
        values = data.get(key)
        if not isinstance(values, list) or not values:
            return f"'{key}' is not a non-empty list of distances"
        if not all(value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)
                                     and math.isfinite(value) and value >= 0) for value in values):
            return f"'{key}' holds something other than non-negative distances and nulls"
    return None


def _sorted_distances(values: list[float | None]) -> np.ndarray:
    return np.sort(np.array([math.inf if value is None else value for value in values], dtype=np.float64))
