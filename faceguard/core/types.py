"""Frozen dataclasses that cross layers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Face:
    """One detected face in image pixel coordinates.

    box: (x1, y1, x2, y2) float32; landmarks: (5, 2) float32 in the order
    left eye, right eye (as seen in the image: smaller x first), nose tip, left mouth corner, right mouth corner;
    score: detector confidence in [0, 1].
    """

    box: np.ndarray
    landmarks: np.ndarray
    score: float

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])

    @property
    def size(self) -> float:
        """The shorter side of the box, in pixels."""
        return min(self.width, self.height)


@dataclass(frozen=True, eq=False)
class Thumbnail:
    """A stored face picture: ``jpeg`` the encoded image; ``landmarks`` (5, 2) float32 positions of the
    face's landmarks in it (decode with :func:`faceguard.vision.thumbnail.decode_thumbnail`)."""

    jpeg: bytes
    landmarks: np.ndarray
