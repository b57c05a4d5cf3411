"""Enrollment quality checks: is this one photo good enough to recognise the person later?

Figures are measured on the detected face and on its aligned chip (fixed scale, so blur and
exposure figures do not depend on the photo's resolution). ``check_quality`` raises the typed
error whose message tells the person what to change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

from faceguard.errors import (
    BlurryFaceError,
    ExposureError,
    FaceTooSmallError,
    NotFrontalError,
)
from faceguard.types import Face


@dataclass(frozen=True)
class QualityReport:
    """face_size: shorter side of the face box in pixels; eye_distance: pixels between eye centres;
    sharpness: variance of the Laplacian of the grey chip; brightness: mean grey level (0-255) of the
    chip's central face region; clipped: fraction of that region at 0-5 or 250-255; yaw: nose offset
    from the eyes' midline in eye distances (0 = frontal, ~0.5 = turned 45°); pitch: nose height
    between eye line (0) and mouth line (1), ~0.55 when level.
    """

    face_size: float
    eye_distance: float
    sharpness: float
    brightness: float
    clipped: float
    yaw: float
    pitch: float
    detector_score: float

    def as_dict(self) -> dict[str, float]:
        return {key: round(float(value), 4) for key, value in asdict(self).items()}


@dataclass(frozen=True)
class QualityThresholds:
    """Limits for enrollment, set from the public-domain test portraits (tests/test_quality.py):
    sharp portraits measure sharpness 92-245 and brightness 94-175; the same photos blurred
    (Gaussian sigma = longer side / 300) measure 4-21, darkened to 18% measure brightness 16-31,
    and brightened 2.6x measure 211-251 with 15-93% of the face clipped.
    """

    min_face_size: float = 80.0
    min_sharpness: float = 40.0
    min_brightness: float = 50.0
    max_brightness: float = 200.0
    max_clipped: float = 0.25
    max_yaw: float = 0.3
    pitch_range: tuple[float, float] = (0.3, 0.8)


def assess_quality(face: Face, chip: np.ndarray) -> QualityReport:
    """Measure a detected face and its aligned RGB chip."""
    left_eye, right_eye, nose, left_mouth, right_mouth = face.landmarks.astype(np.float64)
    eye_mid, mouth_mid = (left_eye + right_eye) / 2, (left_mouth + right_mouth) / 2
    eye_distance = float(np.linalg.norm(right_eye - left_eye))
    eye_axis = (right_eye - left_eye) / max(eye_distance, 1e-6)
    down_axis = np.array([-eye_axis[1], eye_axis[0]])  # perpendicular to the eye line, pointing to the chin
    mouth_depth = float((mouth_mid - eye_mid) @ down_axis)

    gray = cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY)
    size = gray.shape[0]
    centre = gray[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4]
    return QualityReport(
        face_size=min(face.width, face.height),
        eye_distance=eye_distance,
        sharpness=float(cv2.Laplacian(gray, cv2.CV_64F).var()),
        brightness=float(centre.mean()),
        clipped=float(((centre <= 5) | (centre >= 250)).mean()),
        yaw=float((nose - eye_mid) @ eye_axis) / max(eye_distance, 1e-6),
        pitch=float((nose - eye_mid) @ down_axis) / max(mouth_depth, 1e-6),
        detector_score=face.score,
    )


def check_quality(report: QualityReport, limits: QualityThresholds = QualityThresholds()) -> None:
    """Raise the QualityError that explains the first failed check; return quietly if all pass."""
    if report.face_size < limits.min_face_size:
        raise FaceTooSmallError(
            f"The face is too small ({report.face_size:.0f} pixels across; at least "
            f"{limits.min_face_size:.0f} needed). Move closer or use a higher-resolution photo."
        )
    if report.brightness < limits.min_brightness:
        raise ExposureError("The face is too dark. Add light in front of the person or use a brighter photo.")
    if report.brightness > limits.max_brightness or report.clipped > limits.max_clipped:
        raise ExposureError("The face is overexposed. Reduce the light or avoid a flash or backlight.")
    if report.sharpness < limits.min_sharpness:
        raise BlurryFaceError("The face is blurred. Hold still, clean the lens, or use a sharper photo.")
    low, high = limits.pitch_range
    if abs(report.yaw) > limits.max_yaw or not low <= report.pitch <= high:
        raise NotFrontalError("The face is turned away. Look straight at the camera.")


def check_usable(report: QualityReport) -> None:
    """Raise when the face cannot be used at all, whatever the admin accepts (fallback: size only)."""
    if report.face_size < 20:
        raise FaceTooSmallError(
            f"The face is far too small to recognise ({report.face_size:.0f} pixels across). Move much closer "
            "or use a higher-resolution photo."
        )
