from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from faceguard.core.errors import MissingWeightsError
from faceguard.vision import dlib_format
from faceguard.vision.encoder import DlibEncoder
from faceguard.vision.networks import dlib_resnet as encoder_module
from faceguard.vision.networks.dlib_resnet import DlibResNet, add_zero_padded
from faceguard.vision.weights import package_file

DATA = Path(__file__).parent / "data"
PHOTOS = ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg")
MODELS = "face_recognition_models/models"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def encoder(cache_dir: Path) -> DlibEncoder:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FACEGUARD_CACHE_DIR", str(cache_dir))
        return DlibEncoder.load("cpu")


@pytest.fixture(scope="module")
def photo_chips() -> np.ndarray:
    """150x150 centre crops of the test photos: not aligned, but real image statistics."""
    chips = []
    for name in PHOTOS:
        image = cv2.cvtColor(cv2.imread(str(DATA / name)), cv2.COLOR_BGR2RGB)
        side = min(image.shape[:2])
        top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
        square = image[top : top + side, left : left + side]
        chips.append(cv2.resize(square, (150, 150), interpolation=cv2.INTER_AREA))
    return np.stack(chips)


@pytest.fixture(scope="module")
def dlib_reference() -> tuple[np.ndarray, np.ndarray]:
    """Chips cut by dlib itself and dlib's own descriptors of them (the oracle)."""
    dlib = pytest.importorskip("dlib", reason="dlib-bin, the test-only oracle, is not installed here")
    predictor_path = package_file(dlib_format.DISTRIBUTION, f"{MODELS}/shape_predictor_5_face_landmarks.dat")
    predictor = dlib.shape_predictor(str(predictor_path))
    recognizer = dlib.face_recognition_model_v1(str(dlib_format.face_resnet_path()))
    detector = dlib.get_frontal_face_detector()
    chips = []
    for name in PHOTOS:
        image = dlib.load_rgb_image(str(DATA / name))
        (face,) = detector(image, 0)
        chips.append(dlib.get_face_chip(image, predictor(image, face), size=150, padding=0.25))
    descriptors = np.array([recognizer.compute_face_descriptor(chip) for chip in chips], dtype=np.float32)
    return np.stack(chips), descriptors


@pytest.mark.parametrize("index", range(len(PHOTOS)), ids=PHOTOS)
def test_matches_dlib_descriptor(encoder: DlibEncoder, dlib_reference, index: int) -> None:
    chips, expected = dlib_reference
    encoding = encoder.encode(chips[index])
    assert encoding.shape == (1, 128) and encoding.dtype == np.float32
    assert np.abs(encoding[0] - expected[index]).max() <= 1e-4


def test_batch_matches_dlib(encoder: DlibEncoder, dlib_reference) -> None:
    chips, expected = dlib_reference
    assert np.abs(encoder.encode(chips) - expected).max() <= 1e-4


def test_same_person_is_closer_than_different_people(encoder: DlibEncoder, dlib_reference) -> None:
    chips, _ = dlib_reference
    encodings = encoder.encode(chips)
    distances = np.linalg.norm(encodings[:, None] - encodings[None], axis=2)
    obama, biden = [0, 1, 2], 3
    same = distances[np.ix_(obama, obama)][np.triu_indices(3, 1)]
    different = distances[obama, biden]
    assert same.max() < 0.6 < different.min()


def test_batch_equals_single_encodes(encoder: DlibEncoder, photo_chips: np.ndarray) -> None:
    batch = encoder.encode(photo_chips)
    singles = np.concatenate([encoder.encode(chip) for chip in photo_chips])
    np.testing.assert_allclose(batch, singles, atol=1e-5)


def test_chunks_equal_one_pass(encoder: DlibEncoder, photo_chips: np.ndarray, monkeypatch) -> None:
    whole = encoder.encode(photo_chips)
    monkeypatch.setattr(encoder, "chunk_size", 3)
    np.testing.assert_allclose(encoder.encode(photo_chips), whole, atol=1e-5)


def test_flip_averages_with_mirror(encoder: DlibEncoder, photo_chips: np.ndarray) -> None:
    plain = encoder.encode(photo_chips)
    mirrored = encoder.encode(np.ascontiguousarray(photo_chips[:, :, ::-1]))
    np.testing.assert_allclose(encoder.encode(photo_chips, flip=True), (plain + mirrored) / 2, atol=1e-5)


def test_channels_last_matches_contiguous(encoder: DlibEncoder, photo_chips: np.ndarray) -> None:
    model = DlibResNet()
    model.load_state_dict(encoder.model.state_dict())
    with torch.inference_mode():
        reference = model.eval()(torch.from_numpy(photo_chips).permute(0, 3, 1, 2).contiguous().float())
    np.testing.assert_allclose(encoder.encode(photo_chips), reference.numpy(), atol=1e-5)


def test_empty_batch(encoder: DlibEncoder) -> None:
    assert encoder.encode(np.empty((0, 150, 150, 3), np.uint8)).shape == (0, 128)


@pytest.mark.parametrize(
    "chips",
    [
        np.zeros((150, 150, 3), np.float32),
        np.zeros((2, 112, 112, 3), np.uint8),
        np.zeros((150, 150), np.uint8),
    ],
)
def test_rejects_wrong_chips(encoder: DlibEncoder, chips: np.ndarray) -> None:
    with pytest.raises(ValueError, match="uint8 RGB"):
        encoder.encode(chips)


def test_second_load_reads_the_cache(
    encoder: DlibEncoder, cache_dir: Path, photo_chips: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_conversion(path: Path) -> None:
        raise AssertionError("the cached conversion should have been used")

    monkeypatch.setenv("FACEGUARD_CACHE_DIR", str(cache_dir))
    monkeypatch.setattr(encoder_module, "convert_dat", no_conversion)
    assert len(list(cache_dir.glob("dlib_resnet_v1-*.pt"))) == 1
    again = DlibEncoder.load(torch.device("cpu"))
    assert again.device == torch.device("cpu")
    np.testing.assert_array_equal(again.encode(photo_chips), encoder.encode(photo_chips))


def test_corrupt_model_file_asks_for_reinstall(tmp_path: Path) -> None:
    path = tmp_path / "dlib_face_recognition_resnet_model_v1.dat"
    path.write_bytes(dlib_format.face_resnet_path().read_bytes()[:1000])
    with pytest.raises(MissingWeightsError, match="truncated.*Reinstall"):
        encoder_module.convert_dat(path)


def test_add_zero_padded_follows_dlib() -> None:
    a = torch.ones(1, 2, 3, 3)
    b = torch.full((1, 3, 4, 4), 10.0)
    out = add_zero_padded(a, b)
    assert out.shape == (1, 3, 4, 4)
    assert (out[:, :2, :3, :3] == 11).all()  # both present
    assert (out[:, 2] == 10).all() and (out[:, :, 3] == 10).all() and (out[:, :, :, 3] == 10).all()
