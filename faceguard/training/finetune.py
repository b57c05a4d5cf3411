"""Fine-tuning helpers for the encoder networks (the networks themselves: :mod:`faceguard.vision.networks`)."""

from __future__ import annotations

from torch import nn

from faceguard.core.errors import InvalidInputError
from faceguard.vision.networks.dlib_resnet import LEVELS, DlibResNet


def freeze_stages(model: nn.Module, stages: int) -> int:
    """Fine-tuning: freeze dlib ResNet's stem (first convolution and its affine) and its first
    ``stages`` residual levels (0 to 5, input side first); every other parameter is made trainable.
    Returns the number of trainable parameters."""
    if not isinstance(model, DlibResNet):
        raise TypeError(f"freeze_stages works on a DlibResNet, not a {type(model).__name__}.")
    if not 0 <= stages <= len(LEVELS):
        raise InvalidInputError(f"stages must be between 0 and {len(LEVELS)}, not {stages}.")
    frozen_blocks = sum(count for _, count, _ in LEVELS[:stages])
    model.requires_grad_(True)
    model.conv.requires_grad_(False)
    model.affine.requires_grad_(False)
    for block in list(model.blocks)[:frozen_blocks]:
        block.requires_grad_(False)
    return sum(parameter.numel() for parameter in model.parameters() if parameter.requires_grad)
