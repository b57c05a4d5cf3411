"""SmallFaceNet: a MobileFaceNet-like encoder small enough to train from scratch on a CPU."""

from __future__ import annotations

import torch
from torch import nn


class ConvBlock(nn.Sequential):
    """Convolution + BatchNorm (+ PReLU unless ``linear``), as in MobileFaceNet."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int = 1,
        stride: int = 1,
        groups: int = 1,
        linear: bool = False,
        padding: int | None = None,
    ) -> None:
        padding = kernel // 2 if padding is None else padding
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, kernel, stride, padding, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
        ]
        if not linear:
            layers.append(nn.PReLU(cout))
        super().__init__(*layers)


class Bottleneck(nn.Module):
    """Inverted residual: 1x1 expansion, 3x3 depthwise (stride 1 or 2), linear 1x1 projection; the
    input is added back when the shape is unchanged."""

    def __init__(self, cin: int, cout: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = cin * expansion
        self.residual = stride == 1 and cin == cout
        self.body = nn.Sequential(
            ConvBlock(cin, hidden),
            ConvBlock(hidden, hidden, 3, stride, groups=hidden),
            ConvBlock(hidden, cout, linear=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


#: (expansion, output channels, blocks, stride of the first block) per stage: MobileFaceNet's layout
#: (Chen et al. 2018, table 1) with a quarter to half of its channels and fewer blocks, so that a
#: 2-core CPU trains it from scratch (a batch of 64 chips forward and backward: ~0.5 s).
STAGES = ((2, 32, 2, 2), (4, 64, 1, 2), (2, 64, 2, 1), (2, 96, 1, 2), (2, 96, 2, 1))
STEM_CHANNELS = 16
HEAD_CHANNELS = 384


class SmallFaceNet(nn.Module):
    """A MobileFaceNet-like encoder small enough to train from scratch on a CPU.

    3x3/2 convolution and a 3x3 depthwise convolution at S/2, inverted-residual bottlenecks with
    BatchNorm and PReLU down to S/16, a 1x1 convolution to 384 channels, then a global depthwise
    convolution (one (S/16)x(S/16) filter per channel instead of average pooling: it learns which
    parts of the face matter), a linear 1x1 convolution to ``dim`` and BatchNorm. At 112x112 and dim
    128: 0.27 M parameters, 28 M multiply-adds = 56 MFLOPs (MobileFaceNet: 0.99 M, 221 M MAdds).
    Input RGB in [0, 255], normalised inside as (x - 127.5) / 128; output not L2-normalised.
    """

    def __init__(self, dim: int = 128, input_size: int = 112) -> None:
        super().__init__()
        if input_size < 16:
            raise ValueError(f"SmallFaceNet needs chips of at least 16x16 pixels, not {input_size}.")
        self.dim, self.input_size = dim, input_size
        layers: list[nn.Module] = [
            ConvBlock(3, STEM_CHANNELS, 3, 2),
            ConvBlock(STEM_CHANNELS, STEM_CHANNELS, 3, 1, groups=STEM_CHANNELS),
        ]
        channels, side = STEM_CHANNELS, _halved(input_size)
        for expansion, cout, blocks, stride in STAGES:
            for index in range(blocks):
                layers.append(Bottleneck(channels, cout, stride if index == 0 else 1, expansion))
                channels = cout
            side = _halved(side) if stride == 2 else side
        layers.append(ConvBlock(channels, HEAD_CHANNELS))
        self.features = nn.Sequential(*layers)
        self.gdc = ConvBlock(HEAD_CHANNELS, HEAD_CHANNELS, side, groups=HEAD_CHANNELS, linear=True, padding=0)
        self.embedding = nn.Conv2d(HEAD_CHANNELS, dim, 1, bias=False)
        self.bn = nn.BatchNorm1d(dim)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - 127.5) / 128.0
        x = self.gdc(self.features(x))
        return self.bn(self.embedding(x).flatten(1))


def _halved(side: int) -> int:
    """The output side of a 3x3 stride-2 convolution with padding 1."""
    return (side - 1) // 2 + 1
