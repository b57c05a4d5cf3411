"""Enrollment quality checks: is this one photo good enough to recognise the person later?

Figures are measured on the detected face and on one canonical aligned chip, dlib-resnet@1's 150x150
chip (``quality_chip``), whatever the encoder: fixed scale and crop, so blur and exposure figures depend
neither on the photo's resolution nor on the configured model's chip. Two checks, each raising the
typed error whose message tells the person what to change:

* ``check_usable``: the face is too poor to recognise at all (a hard refusal, whatever the admin says);
* ``check_quality``: the face is below the recommended quality (the admin may enrol it after a warning).

Every limit comes from ``benchmarks/quality_error_vs_discard.py`` on LFW View 1 DevTrain, for both
builtin models (dlib-resnet@1 and sface@1); the figures and their numbers are in ``docs/quality/``:

* ``edc-<model>.png``: error-versus-discard curves on ordinary photos. Discarding pairs by any figure
  within the first 1 % of photos never lowered the FNMR (at FMR 1e-3) by more than 2 bootstrap
  standard errors, so no limit may cost an ordinary photo more than that.
* ``degraded-<model>.png``: 300 (dlib) / 60 (sface) DevTrain photos shrunk, darkened, brightened and
  blurred, their FNMR against every other DevTrain photo plotted against the figure. A recommended
  limit sits where the FNMR rises measurably (> 2 standard errors) above the undegraded photos'; a
  usable limit where the FNMR passes 0.5, i.e. the person would more often be refused than recognised.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from faceguard.core.errors import (
    BlurryFaceError,
    ExposureError,
    FaceTooSmallError,
    NotFrontalError,
)
from faceguard.core.types import Face
from faceguard.vision.align import align_face
from faceguard.vision.spec import DLIB_RESNET_V1

#: The chip every figure is measured on, whatever the encoder: dlib-resnet@1's, the geometry the limits
#: were fitted on (on the same LFW photos SFace's 112-px chip measures a median 3.1x the sharpness and
#: 1.05x the brightness). Cutting it costs ~0.5 ms on one CPU thread.
QUALITY_TEMPLATE = np.asarray(DLIB_RESNET_V1.template, np.float32)
QUALITY_SIZE = DLIB_RESNET_V1.input_size

#: The grey level the sharpness figure is normalised to (see ``QualityReport``).
MID_GREY = 128.0


@dataclass(frozen=True)
class QualityReport:
    """face_size: shorter side of the face box in pixels; eye_distance: pixels between eye centres;
    sharpness: variance of the Laplacian of the grey chip, scaled to a face of mid-grey brightness
    (times (128 / brightness)², so a dim but sharp face is not taken for a blurred one); brightness:
    mean grey level (0-255) of the chip's central face region; clipped: fraction of that region at 0-5
    or 250-255; yaw: nose offset from the eyes' midline in eye distances (0 = frontal, ~0.5 = turned
    45°); pitch: nose height between eye line (0) and mouth line (1), ~0.55 when level.
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
    """Recommended quality (``check_quality``): each limit sits where ``docs/quality/degraded-<model>.png``
    shows the FNMR (at FMR 1e-3) rising measurably (> 2 standard errors) above that of undegraded photos,
    for the more sensitive of the two builtin models (dlib-resnet; sface stays unaffected further out):

    * min_face_size 60: dlib +0.016 ± 0.007 at a median 56 px, +0.038 ± 0.010 at 43 px (sface: none to 24 px).
    * min_brightness 40: dlib +0.026 ± 0.010 at a median 38 (sface: only below ~10).
    * max_brightness 190: dlib 0.17 ± 0.04 in the 188-207 bin against 0.06 undegraded (sface: above ~243).
    * min_sharpness 10: dlib 0.25 ± 0.04 below 8 against 0.06 (sface, measured on its own 112-px chip
      then: 0.15 ± 0.07 in the 10-15 bin, i.e. ~3-5 on the canonical chip, so 10 is safe for it too).
    * max_yaw: no limit. Neither ``edc-dlib-resnet.png`` nor ``edc-sface.png`` (error-versus-discard on
      ordinary LFW photos) shows a yaw, pitch, clipping or detector-score limit costing at most 1 % of
      the photos that lowers the FNMR by more than 2 standard errors; pitch and clipping limits are gone.

    On ordinary photos (LFW), these limits cost < 1 % (``edc-<model>.json``, ``fte_first_photos``).
    """

    min_face_size: float = 60.0
    min_sharpness: float = 10.0
    min_brightness: float = 40.0
    max_brightness: float = 190.0
    max_yaw: float = math.inf


#: Hard limits (``check_usable``): where ``docs/quality/degraded-<model>.png`` shows an FNMR above 0.5,
#: a person enrolled from such a photo more often refused than recognised. dlib-resnet passes 0.5 at
#: brightness ~6 (0.78 below 5.7), ~243 (0.70 at 246-250) and sharpness ~4.3; sface at sharpness ~4.3
#: and brightness ~249, and stays at 0.4 in the dark until the face is no longer detected. The brightness
#: limits take the lenient end. No face size is unusable: both models still recognise faces of 20 px, the
#: smallest the detector finds (dlib FNMR 0.25, sface 0.05).
USABLE_MIN_BRIGHTNESS = 5.0
USABLE_MAX_BRIGHTNESS = 248.0
USABLE_MIN_SHARPNESS = 4.0


def quality_chip(image: np.ndarray, face: Face) -> np.ndarray:
    """The canonical RGB chip of ``face`` in ``image`` that the figures are measured on."""
    return align_face(image, face.landmarks, QUALITY_TEMPLATE, QUALITY_SIZE)


def assess_quality(image: np.ndarray, face: Face) -> QualityReport:
    """Measure a face detected in the RGB ``image``, on its canonical chip."""
    left_eye, right_eye, nose, left_mouth, right_mouth = face.landmarks.astype(np.float64)
    eye_mid, mouth_mid = (left_eye + right_eye) / 2, (left_mouth + right_mouth) / 2
    eye_distance = float(np.linalg.norm(right_eye - left_eye))
    eye_axis = (right_eye - left_eye) / max(eye_distance, 1e-6)
    down_axis = np.array([-eye_axis[1], eye_axis[0]])  # perpendicular to the eye line, pointing to the chin
    mouth_depth = float((mouth_mid - eye_mid) @ down_axis)

    gray = cv2.cvtColor(quality_chip(image, face), cv2.COLOR_RGB2GRAY)
    size = gray.shape[0]
    centre = gray[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4]
    brightness = float(centre.mean())
    return QualityReport(
        face_size=face.size,
        eye_distance=eye_distance,
        sharpness=float(cv2.Laplacian(gray, cv2.CV_64F).var()) * (MID_GREY / max(brightness, 1.0)) ** 2,
        brightness=brightness,
        clipped=float(((centre <= 5) | (centre >= 250)).mean()),
        yaw=float((nose - eye_mid) @ eye_axis) / max(eye_distance, 1e-6),
        pitch=float((nose - eye_mid) @ down_axis) / max(mouth_depth, 1e-6),
        detector_score=face.score,
    )


def check_usable(report: QualityReport) -> None:
    """Raise the QualityError of a face too poor to recognise at all; return quietly otherwise."""
    if report.brightness < USABLE_MIN_BRIGHTNESS:
        raise ExposureError(
            "The face is far too dark to recognise. Add light in front of the person or use a brighter photo."
        )
    if report.brightness > USABLE_MAX_BRIGHTNESS:
        raise ExposureError(
            "The face is overexposed, too washed out to recognise. Reduce the light or avoid a flash or backlight."
        )
    if report.sharpness < USABLE_MIN_SHARPNESS:
        raise BlurryFaceError(
            "The face is blurred too much to recognise. Hold still, clean the lens, or use a sharper photo."
        )


def check_quality(report: QualityReport, limits: QualityThresholds = QualityThresholds()) -> None:
    """Raise the QualityError that explains the first check below the recommended quality; return
    quietly if all pass."""
    if report.face_size < limits.min_face_size:
        raise FaceTooSmallError(
            f"The face is too small ({report.face_size:.0f} pixels across; at least "
            f"{limits.min_face_size:.0f} needed). Move closer or use a higher-resolution photo."
        )
    if report.brightness < limits.min_brightness:
        raise ExposureError("The face is too dark. Add light in front of the person or use a brighter photo.")
    if report.brightness > limits.max_brightness:
        raise ExposureError("The face is overexposed. Reduce the light or avoid a flash or backlight.")
    if report.sharpness < limits.min_sharpness:
        raise BlurryFaceError("The face is blurred. Hold still, clean the lens, or use a sharper photo.")
    if abs(report.yaw) > limits.max_yaw:
        raise NotFrontalError("The face is turned away. Look straight at the camera.")
