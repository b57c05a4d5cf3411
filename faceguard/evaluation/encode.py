"""Encode the images a pairs file names, one encoding per image (the face nearest the centre)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from faceguard.core.errors import ImageError
from faceguard.evaluation.pairs import Pair
from faceguard.vision.image_io import read_image
from faceguard.vision.pipeline import FacePipeline, central_face


def encode_images(pipeline: FacePipeline, paths: Sequence[Path]) -> Iterator[tuple[Path, np.ndarray | None]]:
    """Yield (path, encoding) per image; encoding is None where the image has no face or is unreadable."""
    for path in paths:
        try:
            image = read_image(path)
        except ImageError:
            yield path, None
            continue
        face = central_face(pipeline.detect(image), image.shape)
        if face is None:
            yield path, None
            continue
        yield path, pipeline.encode_faces(image, [face])[0].encoding


def pair_distances(pairs: Sequence[Pair], encodings: dict[Path, np.ndarray | None]) -> np.ndarray:
    """Euclidean distance per pair; +inf where either image has no encoding (scored as "different")."""
    distances = np.full(len(pairs), np.inf)
    for index, pair in enumerate(pairs):
        first, second = encodings.get(pair.path1), encodings.get(pair.path2)
        if first is not None and second is not None:
            distances[index] = float(np.linalg.norm(first - second))
    return distances


def unique_images(pairs: Sequence[Pair]) -> list[Path]:
    return sorted({path for pair in pairs for path in (pair.path1, pair.path2)})
