"""Face chips -> encodings: any registered network on one device, and the model a spec names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from faceguard.core.errors import MissingWeightsError
from faceguard.vision import weights
from faceguard.vision.device import select_device
from faceguard.vision.networks import build_network, fusion
from faceguard.vision.networks.dlib_resnet import EMBEDDING_SIZE, INPUT_SIZE, DlibResNet, dlib_state_dict
from faceguard.vision.spec import ModelSpec
from faceguard.vision.weights import StateDict


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
            model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # torch's stub lacks it
        self.model = model

    def encode(self, chips: np.ndarray, flip: bool | None = None) -> np.ndarray:
        """Encodings (N, dim) float32 for uint8 RGB chips (N, S, S, 3) or one (S, S, 3).

        ``flip`` (default: the encoder's) averages each chip's encoding with its mirror image's.
        """
        batch = self._check(chips)
        flip = self.flip if flip is None else flip
        parts = [
            self._forward(batch[start : start + self.chunk_size], flip)
            for start in range(0, len(batch), self.chunk_size)
        ]
        return np.concatenate(parts) if parts else np.empty((0, self.dim), np.float32)

    def _check(self, chips: np.ndarray) -> np.ndarray:
        chips = np.asarray(chips)
        if chips.ndim == 3:
            chips = chips[None]
        size = self.input_size
        if chips.ndim != 4 or chips.shape[1:] != (size, size, 3) or chips.dtype != np.uint8:
            raise ValueError(
                f"Face chips must be uint8 RGB arrays of shape (N, {size}, {size}, 3) or "
                f"({size}, {size}, 3); got {chips.dtype} {chips.shape}."
            )
        return chips

    def _forward(self, chips: np.ndarray, flip: bool) -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(chips)).to(self.device)
            x = x.permute(0, 3, 1, 2).float()  # NCHW view of NHWC memory: channels_last strides
            if flip:
                x = torch.cat([x, x.flip(3)])
            out = self.model(x).float()
            if flip:
                out = (out[: len(chips)] + out[len(chips) :]) / 2
            if self.normalize:
                out = F.normalize(out, dim=1)
            encodings: np.ndarray = out.cpu().numpy()
            return encodings


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
            build_network("dlib-resnet"), build_network("sface"), np.asarray(spec.template)
        )
        return Encoder(model, torch_device, spec.flip, spec.input_size, spec.dim, spec.normalize)
    model = build_network(
        spec.architecture, pretrained=spec.weights_path is None, dim=spec.dim, input_size=spec.input_size
    )
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


def load_exported_weights(spec: ModelSpec) -> StateDict:
    """The state dict of an exported model, read with ``weights_only=True``."""
    path = Path(str(spec.weights_path))
    if not path.is_file():
        raise MissingWeightsError(
            f"The weights of model {spec.id} are missing: {path} does not exist. "
            "Export the model again (faceguard export CHECKPOINT --name NAME --replace)."
        )
    if spec.weights_sha256 is not None and weights.sha256_of(path) != spec.weights_sha256:
        raise MissingWeightsError(
            f"The weights file {path} is not the one exported as model {spec.id} "
            "(its checksum differs). Export the model again."
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch raises many types for a damaged file
        raise MissingWeightsError(
            f"The weights file {path} of model {spec.id} cannot be read ({error}). Export the model again."
        ) from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise MissingWeightsError(
            f"The weights file {path} of model {spec.id} is not a state dict. Export the model again."
        )
    return state
