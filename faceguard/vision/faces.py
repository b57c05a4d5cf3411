"""What ``FacePipeline`` makes of a detected face: an encoding, or the quality problem that stopped it.

Plain data without the networks, so code that only reads results (the kiosk session, Verify now) does
not load torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceguard.core.errors import QualityError
from faceguard.core.types import Face
from faceguard.vision.quality import QualityReport


@dataclass(frozen=True, eq=False)
class EncodedFace:
    """A detected face with its aligned chip and its encoding by model ``model_id``."""

    face: Face
    chip: np.ndarray
    encoding: np.ndarray
    model_id: str


@dataclass(frozen=True, eq=False)
class CheckedFace(EncodedFace):
    """An encoded face that passed the quality gate, with its ``report``. ``accepted_below``: the warning
    of a face accepted below the recommended quality (what is wrong with it), None when it meets it."""

    report: QualityReport
    accepted_below: str | None = None


@dataclass(frozen=True, eq=False)
class RefusedFace:
    """A detected face too poor to encode: its quality ``report`` and the ``problem`` saying why."""

    face: Face
    report: QualityReport
    problem: QualityError
