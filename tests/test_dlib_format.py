from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from faceguard.core.errors import MissingWeightsError
from faceguard.vision import dlib_format
from faceguard.vision.dlib_format import (
    AddPrev,
    Affine,
    Conv,
    DlibFormatError,
    FullyConnected,
    Pool,
    Skip,
    Tag,
)
from faceguard.vision.weights import package_file


@pytest.fixture(scope="module")
def data() -> bytes:
    return dlib_format.face_resnet_path().read_bytes()


@pytest.fixture(scope="module")
def network(data: bytes) -> dlib_format.DlibNetwork:
    return dlib_format.parse(data)


def test_input_and_loss_layers(network: dlib_format.DlibNetwork) -> None:
    assert network.input.size == 150
    np.testing.assert_allclose(network.input.mean, (122.782, 117.001, 104.298), atol=1e-4)
    # dlib's float encoding (mantissa * 2**exponent) decodes to the float32 values it was given.
    assert network.loss.distance_threshold == float(np.float32(0.6))
    assert network.loss.margin == float(np.float32(0.04))


def test_layer_counts(network: dlib_format.DlibNetwork) -> None:
    counts = Counter(type(layer).__name__ for layer in network.layers)
    # 1 stem conv + 14 residual blocks of 2 convs; relu after the stem and twice per block.
    assert counts == {
        "Conv": 29,
        "Affine": 29,
        "Relu": 29,
        "AddPrev": 14,
        "Tag": 18,
        "Skip": 4,
        "Pool": 6,
        "FullyConnected": 1,
    }


def test_parameter_shapes_follow_the_architecture(network: dlib_format.DlibNetwork) -> None:
    convs = [layer for layer in network.layers if isinstance(layer, Conv)]
    assert convs[0].weight.shape == (32, 3, 7, 7) and (convs[0].stride, convs[0].padding) == (2, 0)
    # Residual blocks: 3 x 32, 4 x 64, 3 x 128, 3 x 256, 1 x 256 filters; the first block of every
    # level but the first down-samples with a padding-free stride-2 convolution.
    widths = [32] * 3 + [64] * 4 + [128] * 3 + [256] * 4
    downs = {3, 7, 10, 13}
    in_channels = 32
    for index, (width, (first, second)) in enumerate(zip(widths, zip(convs[1::2], convs[2::2]))):
        stride, padding = (2, 0) if index in downs else (1, 1)
        assert first.weight.shape == (width, in_channels, 3, 3)
        assert (first.stride, first.padding) == (stride, padding)
        assert second.weight.shape == (width, width, 3, 3) and (second.stride, second.padding) == (1, 1)
        assert first.bias.shape == second.bias.shape == (width,)
        in_channels = width
    affines = [layer for layer in network.layers if isinstance(layer, Affine)]
    assert [a.gamma.shape[0] for a in affines] == [c.weight.shape[0] for c in convs]
    (fc,) = [layer for layer in network.layers if isinstance(layer, FullyConnected)]
    assert fc.weight.shape == (128, 256)
    conv_params = sum(c.weight.size + c.bias.size for c in convs)
    assert conv_params == 3 * 49 * 32 + 32 + sum(
        cin * 9 * w + w + w * 9 * w + w for cin, w in zip([32, *widths[:-1]], widths)
    )
    assert sum(2 * a.gamma.size for a in affines) == 2 * (32 + 2 * sum(widths))
    assert conv_params + 2 * (32 + 2 * sum(widths)) + fc.weight.size == 5_614_592
    assert all(np.isfinite(c.weight).all() for c in convs)


def test_pools_and_graph_edges(network: dlib_format.DlibNetwork) -> None:
    pools = [layer for layer in network.layers if isinstance(layer, Pool)]
    assert pools[0] == Pool("max", 3, 2, 0)
    assert pools[1:5] == [Pool("avg", 2, 2, 0)] * 4
    assert pools[5] == Pool("avg", 0, 1, 0)  # avg_pool_everything
    assert {layer for layer in network.layers if isinstance(layer, Skip)} == {Skip(1)}
    assert {layer for layer in network.layers if isinstance(layer, AddPrev)} == {AddPrev(1), AddPrev(2)}
    assert {layer for layer in network.layers if isinstance(layer, Tag)} == {Tag(1), Tag(2)}


@pytest.mark.parametrize("keep", [0, 1, 20, 500, 0.5, -1])
def test_truncated_file_is_rejected(data: bytes, keep: float) -> None:
    cut = int(len(data) * keep) if isinstance(keep, float) else keep % len(data)
    with pytest.raises(DlibFormatError, match="truncated"):
        dlib_format.parse(data[:cut])


def test_trailing_bytes_are_rejected(data: bytes) -> None:
    with pytest.raises(DlibFormatError, match="unexpected bytes"):
        dlib_format.parse(data + b"\x00")


def test_garbage_is_rejected() -> None:
    garbage = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    with pytest.raises(DlibFormatError, match="not a valid dlib face-recognition model"):
        dlib_format.parse(garbage)


def test_other_dlib_model_is_rejected() -> None:
    landmarks_model = "face_recognition_models/models/shape_predictor_5_face_landmarks.dat"
    path = package_file(dlib_format.DISTRIBUTION, landmarks_model)
    with pytest.raises(DlibFormatError):
        dlib_format.read_face_resnet(path)


def test_missing_file_is_a_missing_weights_error(tmp_path) -> None:
    with pytest.raises(MissingWeightsError, match="cannot be read"):
        dlib_format.read_face_resnet(tmp_path / "absent.dat")
