from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from faceguard.core.errors import MissingWeightsError
from faceguard.vision import weights
from faceguard.vision.align import ARCFACE_112_TEMPLATE, align_face
from faceguard.vision.encoder import Encoder, load_encoder
from faceguard.vision.networks import sface
from faceguard.vision.onnx_weights import OnnxFormatError, OnnxGraph, dequantize_blocked, read_graph
from faceguard.vision.spec import SFACE_V1

PHOTOS = ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "collins.png")
PEOPLE = np.array([0, 0, 0, 1, 2])


@pytest.fixture(scope="module")
def onnx_path() -> Path:
    return weights.package_file(sface.DISTRIBUTION, sface.RELATIVE_PATH)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def encoder(cache_dir: Path) -> Encoder:
    """The builtin spec's encoder, its weights converted into a fresh cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FACEGUARD_CACHE_DIR", str(cache_dir))
        return load_encoder(SFACE_V1, "cpu")


@pytest.fixture(scope="module")
def chips(pipeline, photo) -> np.ndarray:
    """Aligned 112x112 chips of the test photos' faces: RetinaFace landmarks onto the ArcFace template."""
    aligned = []
    for name in PHOTOS:
        image = photo(name)
        (face,) = pipeline.detect(image)
        aligned.append(align_face(image, face.landmarks, ARCFACE_112_TEMPLATE, 112))
    return np.stack(aligned)


def test_matches_onnxruntime_on_the_original_file(encoder: Encoder, chips: np.ndarray, onnx_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.log_severity_level = 1, 3
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    # The file lists its float weights as graph inputs too, though no node reads them: feed zeros.
    unused = {i.name: np.zeros(i.shape, np.float32) for i in session.get_inputs() if i.name != "data"}
    batch = chips.transpose(0, 3, 1, 2).astype(np.float32)
    theirs = np.concatenate([session.run(None, {"data": x[None], **unused})[0] for x in batch])
    with torch.inference_mode():
        ours = encoder.model(torch.from_numpy(batch)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=2e-5)
    unit = theirs / np.linalg.norm(theirs, axis=1, keepdims=True)
    np.testing.assert_allclose(encoder.encode(chips, flip=False), unit, rtol=0, atol=1e-5)


def test_same_person_is_within_the_threshold_and_others_beyond(encoder: Encoder, chips: np.ndarray) -> None:
    encodings = encoder.encode(chips)
    np.testing.assert_allclose(np.linalg.norm(encodings, axis=1), 1.0, atol=1e-5)
    first, second = np.triu_indices(len(PHOTOS), 1)
    distances = np.linalg.norm(encodings[first] - encodings[second], axis=1)
    same = PEOPLE[first] == PEOPLE[second]
    assert distances[same].max() <= SFACE_V1.threshold < distances[~same].min()


def test_second_load_reads_the_cache(
    encoder: Encoder, cache_dir: Path, chips: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_conversion(path: Path) -> None:
        raise AssertionError("the cached conversion should have been used")

    monkeypatch.setenv("FACEGUARD_CACHE_DIR", str(cache_dir))
    monkeypatch.setattr(sface, "convert_onnx", no_conversion)
    assert len(list(cache_dir.glob(f"{sface.CACHE_NAME}-*.pt"))) == 1
    again = load_encoder(SFACE_V1, "cpu")
    np.testing.assert_array_equal(again.encode(chips), encoder.encode(chips))


def test_damaged_file_asks_for_reinstall(onnx_path: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "face_recognition_sface_2021dec_int8bq.onnx"
    damaged.write_bytes(onnx_path.read_bytes()[:100_000])
    with pytest.raises(MissingWeightsError, match="damaged.*Reinstall"):
        sface.convert_onnx(damaged)
    with pytest.raises(OnnxFormatError, match="not a readable ONNX file"):
        read_graph(damaged)


@pytest.fixture(scope="module")
def graph(onnx_path: Path) -> OnnxGraph:
    return read_graph(onnx_path)


def test_reader_checks_the_graph_against_the_network(graph: OnnxGraph) -> None:
    assert graph.inputs[0] == "data" and len(graph.nodes) == len(sface.EXPECTED_OPS)
    with pytest.raises(OnnxFormatError, match="not SFace's"):
        sface.state_dict_from_onnx(OnnxGraph(graph.nodes[:-1], graph.constants, graph.inputs, graph.outputs))
    conv = graph.nodes[2]
    strided = type(conv)(conv.op, conv.inputs, conv.outputs, {**conv.attributes, "strides": [2, 2]})
    nodes = (*graph.nodes[:2], strided, *graph.nodes[3:])
    with pytest.raises(OnnxFormatError, match="Conv conv_1_conv2d is not SFace's"):
        sface.state_dict_from_onnx(OnnxGraph(nodes, graph.constants, graph.inputs, graph.outputs))


def test_dequantize_blocked_matches_onnx_reference() -> None:
    reference = pytest.importorskip("onnx.reference")
    from onnx import TensorProto, helper

    rng = np.random.default_rng(0)
    q = rng.integers(-128, 128, (3, 10), dtype=np.int8)  # 10 = 4 + 4 + a short last block of 2
    scale = rng.uniform(1e-3, 1e-2, (3, 3)).astype(np.float32)
    zero_point = rng.integers(-20, 20, (3, 3), dtype=np.int8)
    node = helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], axis=1, block_size=4)
    model = helper.make_model(
        helper.make_graph(
            [node],
            "g",
            [
                helper.make_tensor_value_info(n, t, s)
                for n, t, s in (
                    ("q", TensorProto.INT8, q.shape),
                    ("s", TensorProto.FLOAT, scale.shape),
                    ("z", TensorProto.INT8, zero_point.shape),
                )
            ],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, q.shape)],
        ),
        opset_imports=[helper.make_opsetid("", 21)],
    )
    (expected,) = reference.ReferenceEvaluator(model).run(None, {"q": q, "s": scale, "z": zero_point})
    np.testing.assert_array_equal(dequantize_blocked(q, scale, zero_point, 1, 4), expected)
    with pytest.raises(OnnxFormatError, match="do not fit"):
        dequantize_blocked(q, scale[:, :2], zero_point[:, :2], 1, 4)
