"""MiniFASNetV2 and MiniFASNetV1SE: Minivision's passive face anti-spoofing networks in torch.

The architecture of Minivision's Silent-Face-Anti-Spoofing (``src/model_lib/MiniFASNet.py``,
Apache-2.0, see NOTICE), written anew from that source and the shapes in its released state dicts;
the module names match those files' keys (without their ``module.`` prefix) so they load strictly.

Input: BGR float (N, 3, H, W) in [0, 255], not normalised (80x80 for the released weights).
Output: (N, 3) logits; after a softmax, class 1 is a live face, the other two are attack classes.

Topology (MobileFaceNet-like): conv 3x3/2 3->32, depthwise 3x3 32; then three stages at 64, 128 and
128 channels, each entered by a stride-2 inverted bottleneck (1x1 expansion, depthwise 3x3/2, linear
1x1 projection) and followed by 4, 6 and 2 residual bottlenecks whose expansion widths differ
block by block (``Layout``); V1SE adds a squeeze-and-excitation gate (reduction 4) to the last residual
block of each stage. Head: 1x1 conv to 512, a linear depthwise conv over the whole remaining map
(ceil(H/16) x ceil(W/16)), FC 512->128 without bias, BN1d, FC 128->3 without bias. The dropout
used in training is left out (identity at inference). About 0.43 M parameters each.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

CLASSES = 3
LIVE_CLASS = 1
EMBEDDING_SIZE = 128
HEAD_CHANNELS = 512
SE_REDUCTION = 4


class Layout(NamedTuple):
    """Expansion widths of a MiniFASNet variant: the stride-2 bottleneck entering each stage, and the
    residual bottlenecks of stages 3, 4 and 5 (stage widths 64, 128, 128)."""

    entry: tuple[int, int, int]
    stage3: tuple[int, ...]
    stage4: tuple[int, ...]
    stage5: tuple[int, ...]


V2_LAYOUT = Layout((103, 231, 308), (13, 13, 13, 13), (231, 52, 26, 77, 26, 26), (26, 26))
V1SE_LAYOUT = Layout((103, 231, 308), (13, 26, 13, 52), (154, 52, 26, 52, 26, 26), (26, 26))
STEM_CHANNELS = 32
STAGE_CHANNELS = (64, 128, 128)


class ConvBlock(nn.Module):
    """Convolution without bias and batch norm, then a per-channel PReLU unless ``linear``."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int | tuple[int, int] = 1,
        stride: int = 1,
        padding: int = 0,
        groups: int = 1,
        linear: bool = False,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, padding, groups=groups, bias=False)
        self.bn: nn.Module = nn.BatchNorm2d(cout)
        self.prelu = None if linear else nn.PReLU(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return x if self.prelu is None else self.prelu(x)

    def fold_batch_norm(self) -> None:
        """Fold the (eval-mode) batch norm into the convolution's weight and bias."""
        if isinstance(self.bn, nn.BatchNorm2d):
            self.conv = fuse_conv_bn_eval(self.conv, self.bn)
            self.bn = nn.Identity()


class SqueezeExcite(nn.Module):
    """Channel gate: global average, 1x1 conv down by SE_REDUCTION, BN, ReLU, 1x1 conv back, BN, sigmoid."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        reduced = channels // SE_REDUCTION
        self.fc1 = nn.Conv2d(channels, reduced, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(reduced)
        self.fc2 = nn.Conv2d(reduced, channels, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = torch.relu(self.bn1(self.fc1(x.mean((2, 3), keepdim=True))))
        return x * torch.sigmoid(self.bn2(self.fc2(gate)))


class Bottleneck(nn.Module):
    """Inverted bottleneck: 1x1 expansion to ``hidden``, depthwise 3x3 (``stride``), linear 1x1 projection,
    then the squeeze-and-excitation gate if ``excite``; the input is added back if ``residual``."""

    def __init__(
        self, cin: int, hidden: int, cout: int, stride: int = 1, residual: bool = False, excite: bool = False
    ) -> None:
        super().__init__()
        self.residual = residual
        self.conv = ConvBlock(cin, hidden)
        self.conv_dw = ConvBlock(hidden, hidden, 3, stride, padding=1, groups=hidden)
        self.project = ConvBlock(hidden, cout, linear=True)
        self.se_module = SqueezeExcite(cout) if excite else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.project(self.conv_dw(self.conv(x)))
        if self.se_module is not None:
            y = self.se_module(y)
        return x + y if self.residual else y


class ResidualStage(nn.Module):
    """Residual bottlenecks at ``channels``, one per expansion width; with ``excite`` the last one
    carries a squeeze-and-excitation gate."""

    def __init__(self, channels: int, widths: tuple[int, ...], excite: bool) -> None:
        super().__init__()
        last = len(widths) - 1
        self.model = nn.Sequential(
            *(
                Bottleneck(channels, width, channels, residual=True, excite=excite and index == last)
                for index, width in enumerate(widths)
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class MiniFASNet(nn.Module):
    """BGR float (N, 3, H, W) in [0, 255] -> (N, 3) logits, for ``input_size`` (H, W); ``excite`` adds
    the squeeze-and-excitation gates of the SE variants."""

    def __init__(self, layout: Layout, excite: bool, input_size: tuple[int, int] = (80, 80)) -> None:
        super().__init__()
        c3, c4, c5 = STAGE_CHANNELS
        e3, e4, e5 = layout.entry
        head_kernel = ((input_size[0] + 15) // 16, (input_size[1] + 15) // 16)
        self.conv1 = ConvBlock(3, STEM_CHANNELS, 3, 2, padding=1)
        self.conv2_dw = ConvBlock(STEM_CHANNELS, STEM_CHANNELS, 3, 1, padding=1, groups=STEM_CHANNELS)
        self.conv_23 = Bottleneck(STEM_CHANNELS, e3, c3, stride=2)
        self.conv_3 = ResidualStage(c3, layout.stage3, excite)
        self.conv_34 = Bottleneck(c3, e4, c4, stride=2)
        self.conv_4 = ResidualStage(c4, layout.stage4, excite)
        self.conv_45 = Bottleneck(c4, e5, c5, stride=2)
        self.conv_5 = ResidualStage(c5, layout.stage5, excite)
        self.conv_6_sep = ConvBlock(c5, HEAD_CHANNELS)
        self.conv_6_dw = ConvBlock(HEAD_CHANNELS, HEAD_CHANNELS, head_kernel, groups=HEAD_CHANNELS, linear=True)
        self.linear = nn.Linear(HEAD_CHANNELS, EMBEDDING_SIZE, bias=False)
        self.bn = nn.BatchNorm1d(EMBEDDING_SIZE)
        self.prob = nn.Linear(EMBEDDING_SIZE, CLASSES, bias=False)

    def for_inference(self) -> MiniFASNet:
        """This network in eval mode with every block's batch norm folded into its convolution: the same
        outputs to float rounding, about 15 % faster on one CPU thread. Its state dict then no longer
        has the released files' keys, so load the weights first."""
        self.eval()
        for block in self.modules():
            if isinstance(block, ConvBlock):
                block.fold_batch_norm()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_23(self.conv2_dw(self.conv1(x)))
        x = self.conv_34(self.conv_3(x))
        x = self.conv_45(self.conv_4(x))
        x = self.conv_6_dw(self.conv_6_sep(self.conv_5(x)))
        return self.prob(self.bn(self.linear(x.flatten(1))))


class MiniFASNetV2(MiniFASNet):
    """MiniFASNetV2 (no squeeze-and-excitation); Minivision pairs it with a 2.7x face crop."""

    def __init__(self, input_size: tuple[int, int] = (80, 80)) -> None:
        super().__init__(V2_LAYOUT, excite=False, input_size=input_size)


class MiniFASNetV1SE(MiniFASNet):
    """MiniFASNetV1SE (squeeze-and-excitation in each stage's last block); paired with a 4.0x face crop."""

    def __init__(self, input_size: tuple[int, int] = (80, 80)) -> None:
        super().__init__(V1SE_LAYOUT, excite=True, input_size=input_size)
