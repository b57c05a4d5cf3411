"""dlib's ResNet and SFace as one encoder: one chip in, one encoding whose distance fuses both.

The fused chip is large enough to hold both networks' crops: dlib's 150x150 chip is a plain sub-window
of it (no second resampling) and SFace's 112x112 ArcFace crop is resampled from it inside the network
(``grid_sample``, bilinear, as ``cv2.warpAffine`` would; a 0.65x reduction, so no pyramid is needed).

The encoding is ``[w_dlib · dlib(x), w_sface · sface(x) / ‖sface(x)‖]``; its squared Euclidean distance
is ``w_dlib² d_dlib² + w_sface² · 2 (1 − cos_sface)``, a weighted sum of the two models' own squared
distances, so the gallery, the thresholds and every other part of the app use it like any encoding.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from faceguard.vision.align import ARCFACE_112_TEMPLATE, estimate_similarity
from faceguard.vision.networks import sface

ARCHITECTURE = "dlib-sface"
#: The fused chip's side, and where dlib's 150x150 chip sits in it (left, top): the ArcFace-112 crop
#: reaches 13 px left, 11 px right and 38 px above dlib's chip.
INPUT_SIZE = 192
DLIB_SIZE = 150
DLIB_OFFSET = (21, 40)
EMBEDDING_SIZE = 256
#: SFace's weight against dlib's, chosen by TAR at FMR 1e-4 over all pairs of LFW View 1 DevTrain
#: images (0 to 2 in steps of 0.1; ``docs/fusion-weights.json``, written by ``benchmarks/fusion_weights.py``).
SFACE_WEIGHT = 1.1


def fused_template(dlib_template: np.ndarray) -> np.ndarray:
    """The fused chip's landmark template: dlib's, shifted to where its chip sits."""
    return np.asarray(dlib_template, np.float32) + np.asarray(DLIB_OFFSET, np.float32)


def arcface_sampling_grid(template: np.ndarray) -> torch.Tensor:
    """The ``affine_grid`` matrix (1, 2, 3) that samples SFace's 112x112 crop from a fused chip.

    Both are in pixel coordinates with integers at pixel centres; ``affine_grid`` (align_corners
    False) works in [-1, 1] coordinates where pixel ``p`` of ``S`` is ``(2p + 1) / S - 1``.
    """
    chip_from_arcface = np.vstack([estimate_similarity(ARCFACE_112_TEMPLATE, template), [0, 0, 1]])

    def normalised_from_pixels(size: int) -> np.ndarray:
        return np.array([[2 / size, 0, 1 / size - 1], [0, 2 / size, 1 / size - 1], [0, 0, 1]])

    theta = (
        normalised_from_pixels(INPUT_SIZE) @ chip_from_arcface @ np.linalg.inv(normalised_from_pixels(sface.INPUT_SIZE))
    )
    return torch.tensor(theta[:2], dtype=torch.float32)[None]


class DlibSFaceFusion(nn.Module):
    """RGB fused chips in [0, 255] as float (N, 3, 192, 192) -> (N, 256) fused encodings.

    ``dlib`` maps 150x150 chips to 128-d descriptors, ``sface`` 112x112 ArcFace crops to 128-d
    encodings; ``template`` is the fused chip's landmark template (``fused_template``).
    """

    theta: torch.Tensor

    def __init__(
        self, dlib: nn.Module, sface_net: nn.Module, template: np.ndarray, sface_weight: float = SFACE_WEIGHT
    ) -> None:
        super().__init__()
        self.dlib = dlib
        self.sface = sface_net
        self.register_buffer("theta", arcface_sampling_grid(template))
        self.sface_weight = sface_weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left, top = DLIB_OFFSET
        dlib = self.dlib(x[:, :, top : top + DLIB_SIZE, left : left + DLIB_SIZE])
        size = sface.INPUT_SIZE
        grid = F.affine_grid(self.theta.expand(len(x), 2, 3), [len(x), 3, size, size], align_corners=False)
        crop = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        unit = F.normalize(self.sface(crop), dim=1)
        return torch.cat([dlib, self.sface_weight * unit], dim=1)
