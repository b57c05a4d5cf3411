"""Passive liveness: the MiniFASNet networks, the face crops they see, and the fused live score against
Minivision's released weights and sample images. FaceGuard never ships those files: the tests that need
them use the copy in ../shared/models/minifasnet and skip when it is absent."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from faceguard.core.errors import ImageError, InvalidInputError, LivenessModelError
from faceguard.vision.image_io import read_image
from faceguard.vision.networks.minifasnet import MiniFASNetV1SE, MiniFASNetV2
from faceguard.vision.passive_liveness import PassiveLiveness, crop_box, crop_face

MODELS = Path(__file__).resolve().parents[2] / "shared" / "models" / "minifasnet"
V2_FILE = "2.7_80x80_MiniFASNetV2.pth"
V1SE_FILE = "4_0_0_80x80_MiniFASNetV1SE.pth"
#: The fused live score of each sample's face with FaceGuard's RetinaFace box (measured in the models' README).
SAMPLE_SCORES = {"image_F1.jpg": 0.18, "image_F2.jpg": 0.004, "image_T1.jpg": 0.99997}


@pytest.fixture(scope="module")
def models() -> Path:
    if not (MODELS / V2_FILE).is_file() or not (MODELS / V1SE_FILE).is_file():
        pytest.skip(f"Minivision's MiniFASNet weights are not in {MODELS} (never committed; see issue 13)")
    return MODELS


@pytest.fixture(scope="module")
def liveness(models: Path) -> PassiveLiveness:
    return PassiveLiveness.load(models, device="cpu")


def sample(name: str) -> np.ndarray:
    return read_image(MODELS / "samples" / name)


def file_weights(path: Path) -> dict[str, torch.Tensor]:
    state = torch.load(path, map_location="cpu", weights_only=True)
    return {key.removeprefix("module."): value for key, value in state.items()}


# --- the networks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("network", [MiniFASNetV2, MiniFASNetV1SE])
def test_each_network_has_the_published_0_43_million_parameters(network) -> None:
    count = sum(parameter.numel() for parameter in network().parameters())
    assert round(count / 1e6, 2) == 0.43


@pytest.mark.parametrize("network", [MiniFASNetV2, MiniFASNetV1SE])
def test_an_80x80_crop_gives_three_class_logits(network) -> None:
    with torch.inference_mode():
        assert network().eval()(torch.zeros(2, 3, 80, 80)).shape == (2, 3)


@pytest.mark.parametrize(("network", "name"), [(MiniFASNetV2, V2_FILE), (MiniFASNetV1SE, V1SE_FILE)])
def test_the_released_weights_fill_every_tensor_of_the_network_and_nothing_else(models, network, name) -> None:
    weights = file_weights(models / name)
    expected = network().state_dict()
    assert {key: tuple(value.shape) for key, value in weights.items()} == {
        key: tuple(value.shape) for key, value in expected.items()
    }
    network().load_state_dict(weights, strict=True)


@pytest.mark.parametrize(("network", "name"), [(MiniFASNetV2, V2_FILE), (MiniFASNetV1SE, V1SE_FILE)])
def test_folding_the_batch_norms_keeps_the_outputs(models, network, name) -> None:
    plain, folded = network(), network()
    plain.load_state_dict(file_weights(models / name))
    folded.load_state_dict(file_weights(models / name))
    bgr = np.stack([cv2.resize(sample(image)[:, :, ::-1], (80, 80)) for image in SAMPLE_SCORES])
    batch = torch.from_numpy(bgr).permute(0, 3, 1, 2).float()
    with torch.inference_mode():
        torch.testing.assert_close(folded.for_inference()(batch), plain.eval()(batch), atol=1e-4, rtol=1e-4)


# --- the crop ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("box", "scale", "frame", "corners"),
    [
        ((80, 40, 100, 60), 2.0, (100, 200), (70, 30, 110, 70)),  # grown around its centre
        ((0, 40, 20, 60), 2.0, (100, 200), (0, 30, 40, 70)),  # shifted right, off the left edge
        ((180, 80, 200, 100), 2.0, (100, 200), (159, 59, 199, 99)),  # shifted left and up, off the far edges
        ((50, 25, 150, 75), 4.0, (101, 201), (0, 0, 200, 100)),  # scale capped to what the frame holds
    ],
)
def test_the_crop_is_the_box_grown_around_its_centre_and_kept_inside_the_frame(box, scale, frame, corners) -> None:
    assert crop_box(np.array(box, np.float32), scale, *frame) == corners


def test_the_crop_is_resized_to_the_model_input_without_keeping_the_aspect_ratio() -> None:
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[:, :100] = (255, 0, 0)  # the left half of the crop below is blue in BGR
    crop = crop_face(frame, np.array([80, 40, 120, 60], np.float32), 2.0, 80, 80)
    assert crop.shape == (80, 80, 3) and crop.dtype == np.uint8
    assert (crop[:, :39] == (255, 0, 0)).all() and (crop[:, 41:] == 0).all()


def test_an_empty_face_box_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="positive width and height"):
        crop_box(np.array([10, 10, 10, 30], np.float32), 2.7, 100, 100)


# --- the live score -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), SAMPLE_SCORES.items())
def test_the_fused_live_score_of_each_sample_face(liveness, pipeline, name, expected) -> None:
    image = sample(name)
    [face] = pipeline.detect(image)
    score = liveness.score(image, face)
    assert score == pytest.approx(expected, abs=0.01)


def test_the_score_reads_the_rgb_image_faceguard_uses(liveness, pipeline) -> None:
    """The screen attack F2 scores live if its channels are handed over the other way round."""
    image = sample("image_F2.jpg")
    [face] = pipeline.detect(image)
    assert liveness.score(image, face) < 0.01
    assert liveness.score(np.ascontiguousarray(image[:, :, ::-1]), face) > 0.9


def test_scoring_faces_in_one_batch_gives_each_face_its_own_score(liveness, pipeline) -> None:
    image = np.hstack([sample("image_T1.jpg"), sample("image_F2.jpg")])
    faces = pipeline.detect(image)
    assert len(faces) == 2
    batched = liveness.score_many(image, faces)
    assert batched == pytest.approx([liveness.score(image, face) for face in faces], abs=1e-5)
    assert liveness.score_many(image, []) == []


def test_a_grayscale_frame_is_scored_and_a_float_one_refused(liveness, pipeline) -> None:
    image = sample("image_T1.jpg")
    [face] = pipeline.detect(image)
    assert 0.0 <= liveness.score(image.mean(axis=2).astype(np.uint8), face) <= 1.0
    with pytest.raises(ImageError, match="8-bit"):
        liveness.score(image.astype(np.float32), face)


# --- loading ---------------------------------------------------------------------------------------------


def test_the_two_files_load_in_any_order_like_their_folder(models, liveness, pipeline) -> None:
    image = sample("image_F1.jpg")
    [face] = pipeline.detect(image)
    from_files = PassiveLiveness.load([str(models / V1SE_FILE), models / V2_FILE], device="cpu")
    assert [model.scale for model in from_files.models] == [2.7, 4.0]
    assert from_files.score(image, face) == pytest.approx(liveness.score(image, face), abs=1e-6)


@pytest.fixture
def site_folder(models: Path, tmp_path: Path) -> Path:
    """A copy of the two model files, for a test to damage."""
    for name in (V2_FILE, V1SE_FILE):
        shutil.copy(models / name, tmp_path / name)
    return tmp_path


def test_a_missing_folder_is_named(tmp_path) -> None:
    with pytest.raises(LivenessModelError, match="folder or file '.*nowhere' does not exist"):
        PassiveLiveness.load(tmp_path / "nowhere")


def test_a_folder_without_one_of_the_models_says_which(site_folder) -> None:
    (site_folder / V1SE_FILE).unlink()
    with pytest.raises(LivenessModelError, match="No MiniFASNetV1SE model is in the folder"):
        PassiveLiveness.load(site_folder)


def test_a_folder_with_two_models_of_a_kind_names_both(site_folder) -> None:
    shutil.copy(site_folder / V2_FILE, site_folder / "2.7_80x80_copy_MiniFASNetV2.pth")
    shutil.copy(site_folder / V2_FILE, site_folder / "3_80x80_MiniFASNetV2.pth")
    with pytest.raises(LivenessModelError, match="Several MiniFASNetV2 models .*'3_80x80_MiniFASNetV2.pth'"):
        PassiveLiveness.load(site_folder)


def test_a_missing_model_file_is_named(models, tmp_path) -> None:
    with pytest.raises(LivenessModelError, match=f"'{tmp_path / V1SE_FILE}' does not exist"):
        PassiveLiveness.load([models / V2_FILE, tmp_path / V1SE_FILE])


def test_a_file_not_named_as_minivision_releases_it_is_refused(site_folder) -> None:
    renamed = site_folder / "liveness.pth"
    (site_folder / V1SE_FILE).rename(renamed)
    with pytest.raises(LivenessModelError, match="'.*liveness.pth' is not named as Minivision releases"):
        PassiveLiveness.load([site_folder / V2_FILE, renamed])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: b"", "is empty"),
        (lambda data: data[: len(data) // 2], "is damaged or is not a torch model file"),
        (lambda data: bytes(range(256)) * 100, "is damaged or is not a torch model file"),
    ],
    ids=["empty", "truncated", "garbage"],
)
def test_a_damaged_model_file_is_refused(site_folder, damage, message) -> None:
    path = site_folder / V1SE_FILE
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(LivenessModelError, match=f"'{path}' {message}"):
        PassiveLiveness.load(site_folder)


def test_weights_of_the_other_network_are_refused_by_the_strict_load(site_folder) -> None:
    shutil.copy(site_folder / V2_FILE, site_folder / V1SE_FILE)
    with pytest.raises(LivenessModelError, match="does not hold MiniFASNetV1SE weights .*se_module"):
        PassiveLiveness.load(site_folder)


def test_a_file_without_a_state_dict_is_refused(site_folder) -> None:
    torch.save([torch.zeros(3)], site_folder / V2_FILE)
    with pytest.raises(LivenessModelError, match="does not hold a state dict of tensors"):
        PassiveLiveness.load(site_folder)
