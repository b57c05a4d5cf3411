"""Head pose from the five landmarks, measured so that a flat photo cannot fake it.

The four outer landmarks (eyes, mouth corners) lie nearly on one plane; the nose tip stands out of it.
A homography from a frontal template's four outer points to the detected ones maps the face's plane
whatever its tilt, turn, scale or drift; taken back through it, the detected nose lands where it sits
*in the face's own plane*. For a photo (a plane) that position never changes however the photo is
held; for a head that turns or nods it moves with the pose, because the nose leaves the plane.

``nose_offset`` is that position minus the template's nose, in template inter-eye distances: x > 0
when the nose points to the image's right, y > 0 when it points down. The simple yaw ratio (nose to
each eye) also moves when a photo is only tilted, so it only confirms the direction (``turn_sign``).
"""

from __future__ import annotations

import cv2
import numpy as np

#: The common 5-point frontal face template (ArcFace's 112×112 alignment): eyes, nose, mouth corners.
TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)
_OUTER = [0, 1, 3, 4]
_NOSE = 2
_EYE_DISTANCE = float(np.linalg.norm(TEMPLATE[1] - TEMPLATE[0]))


def nose_offset(landmarks: np.ndarray) -> np.ndarray:
    """The nose's (x, y) offset from its frontal place within the face's plane, in inter-eye distances."""
    points = np.asarray(landmarks, dtype=np.float32)
    to_template = cv2.getPerspectiveTransform(points[_OUTER], TEMPLATE[_OUTER])
    nose = cv2.perspectiveTransform(points[None, _NOSE : _NOSE + 1], to_template)[0, 0]
    return np.asarray((nose - TEMPLATE[_NOSE]) / _EYE_DISTANCE, dtype=np.float64)


def yaw_ratio(landmarks: np.ndarray) -> float:
    """(d_left − d_right) / (d_left + d_right) of the nose's distances to the eyes: > 0 when the nose is
    nearer the image's right eye (the head turned towards the image's right)."""
    points = np.asarray(landmarks, dtype=np.float64)
    left = float(np.linalg.norm(points[_NOSE] - points[0]))
    right = float(np.linalg.norm(points[_NOSE] - points[1]))
    return (left - right) / (left + right) if left + right > 0 else 0.0


def eye_distance(landmarks: np.ndarray) -> float:
    """The distance between the eyes in pixels (the scale of the face in the image)."""
    points = np.asarray(landmarks, dtype=np.float64)
    return float(np.linalg.norm(points[1] - points[0]))
