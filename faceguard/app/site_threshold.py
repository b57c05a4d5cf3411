"""The distance threshold of a door (1:N), chosen for the site rather than for a pair of photos.

A door compares each face with everyone enrolled: with N people a stranger has N chances to match, so
a threshold that is right for one pair lets most strangers in at N = 900. The administrator states
a target instead ("at most one stranger in X is matched to someone", ``max_fpir``); the threshold
follows from the model's calibration data and the number of people enrolled now, and is derived anew
as people are added or removed. An administrator may still fix a threshold by hand; a badge + face
check (1:1) always uses the model's 1:1 threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceguard.matching.calibration import Calibration, CalibrationError
from faceguard.vision.spec import ModelSpec


@dataclass(frozen=True)
class SiteThreshold:
    """The door's threshold for ``n`` enrolled people: ``fixed`` if set, else derived from ``max_fpir``.

    Without calibration data (an exported model may have none) the model's own threshold is used.
    When the target needs a lower false match rate than the calibration data can measure, the
    threshold stops just below the smallest different-person distance measured (``beyond_data``).
    """

    spec: ModelSpec
    calibration: Calibration | None
    max_fpir: float
    fixed: float | None = None

    @classmethod
    def for_model(cls, spec: ModelSpec, max_fpir: float, fixed: float | None = None) -> SiteThreshold:
        """Rule for ``spec`` with its calibration file (CalibrationError if that file is unusable)."""
        return cls(spec, Calibration.load(spec.id), max_fpir, fixed)

    @property
    def derived(self) -> bool:
        """True when the threshold follows the site target (not fixed, and calibration exists)."""
        return self.fixed is None and self.calibration is not None

    def one_to_one(self) -> float:
        """For a badge + face check: the admin's fixed threshold, else the model's 1:1 one."""
        return self.spec.threshold_or(self.fixed)

    def for_gallery(self, enrolled: int) -> float:
        """The threshold with ``enrolled`` people in the gallery."""
        if self.fixed is not None:
            return self.fixed
        if self.calibration is None:
            return self.spec.threshold
        try:
            return self.calibration.site_threshold(self.max_fpir, enrolled)
        except CalibrationError:
            return float(np.nextafter(self.calibration.nonmatch_tail[0], 0.0))

    def beyond_data(self, enrolled: int) -> bool:
        """True when the target is stricter than the calibration data can measure at this size."""
        if not self.derived:
            return False
        assert self.calibration is not None
        try:
            self.calibration.site_threshold(self.max_fpir, enrolled)
        except CalibrationError:
            return True
        return False
