"""A cheap second model for tests that need two: a randomly initialised small-facenet, exported as "tiny"."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from faceguard.training.export import CHECKPOINT_FORMAT, export_checkpoint
from faceguard.vision.networks import ARCHITECTURES
from faceguard.vision.networks.small_facenet import SmallFaceNet
from faceguard.vision.pipeline import FacePipeline

TINY = "tiny"


def export_tiny(folder: Path) -> None:
    """Export the model "tiny" (id tiny@1) into ``folder``, which must be $FACEGUARD_MODELS_DIR."""
    torch.manual_seed(0)
    size, template = ARCHITECTURES["small-facenet"]
    checkpoint = folder.parent / f"{folder.name}-checkpoint.pt"
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "architecture": "small-facenet",
            "state_dict": SmallFaceNet().state_dict(),
            "input_size": size,
            "template": [list(p) for p in template],
            "dim": 128,
            "normalize": True,
            "epoch": 1,
            "config": {},
            "metrics": {"threshold": 0.9},
        },
        checkpoint,
    )
    export_checkpoint(checkpoint, TINY)


def load_tiny(folder: Path) -> FacePipeline:
    """Export "tiny" into ``folder`` and load it on the CPU."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FACEGUARD_MODELS_DIR", str(folder))
        export_tiny(folder)
        return FacePipeline.load(device="cpu", model=TINY)
