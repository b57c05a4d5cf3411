"""Enrollment quality checks on real portraits and on degraded copies of them."""

import cv2
import numpy as np
import pytest

from faceguard.errors import (
    BlurryFaceError,
    ExposureError,
    FaceTooSmallError,
    NotFrontalError,
)
from faceguard.types import Face
from faceguard.vision.quality import QualityThresholds, assess_quality, check_quality

PORTRAITS = ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "collins.png"]


def measure(pipeline, image):
    face = pipeline.single_face(image)
    return assess_quality(face, pipeline.align(image, [face])[0])


@pytest.mark.parametrize("name", PORTRAITS)
def test_good_portraits_pass(pipeline, photo, name):
    report = measure(pipeline, photo(name))
    check_quality(report)
    assert abs(report.yaw) < 0.3 and report.eye_distance > 40


def blurred(image):
    return cv2.GaussianBlur(image, (0, 0), max(image.shape[:2]) / 300)


def darkened(image):
    return (image * 0.18).astype(np.uint8)


def overexposed(image):
    return np.clip(image * 2.6, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("name", PORTRAITS)
@pytest.mark.parametrize(
    "degrade, error, words",
    [(blurred, BlurryFaceError, "blurred"), (darkened, ExposureError, "too dark"),
     (overexposed, ExposureError, "overexposed")],
)
def test_degraded_portraits_are_refused_with_the_right_reason(pipeline, photo, name, degrade, error, words):
    with pytest.raises(error, match=words):
        check_quality(measure(pipeline, degrade(photo(name))))


def test_small_face_is_refused(pipeline, photo):
    image = photo("obama.jpg")
    small = cv2.resize(image, None, fx=0.3, fy=0.3, interpolation=cv2.INTER_AREA)  # face ~68 px
    with pytest.raises(FaceTooSmallError, match="Move closer"):
        check_quality(measure(pipeline, small))


def test_turned_face_is_refused(pipeline, photo):
    """A head turned ~45° puts the nose tip near one eye's column; move the detected nose there."""
    image = photo("obama.jpg")
    face = pipeline.single_face(image)
    landmarks = face.landmarks.copy()
    landmarks[2, 0] = landmarks[0, 0] + 0.1 * (landmarks[1, 0] - landmarks[0, 0])
    turned = Face(face.box, landmarks, face.score)
    report = assess_quality(turned, pipeline.align(image, [face])[0])
    assert report.yaw < -0.3
    with pytest.raises(NotFrontalError, match="turned away"):
        check_quality(report)


def test_thresholds_can_be_relaxed(pipeline, photo):
    report = measure(pipeline, blurred(photo("obama.jpg")))
    check_quality(report, QualityThresholds(min_sharpness=1.0))
