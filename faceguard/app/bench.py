"""Per-stage latency of the engine on a folder of photos (``faceguard bench``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from faceguard.matching.gallery import Gallery
from faceguard.vision.image_io import IMAGE_SUFFIXES, read_image
from faceguard.vision.pipeline import FacePipeline, central_face

T = TypeVar("T")
GALLERY_SIZES = (10_000, 1_000_000)


@dataclass
class StageTimes:
    """Milliseconds per call for each stage, in the order measured."""

    samples: dict[str, list[float]] = field(default_factory=dict)

    def timed(self, stage: str, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)``, its duration recorded under ``stage`` (milliseconds)."""
        start = time.perf_counter()
        result = work(*args)
        self.samples.setdefault(stage, []).append((time.perf_counter() - start) * 1000)
        return result

    def summary(self) -> dict[str, dict[str, float]]:
        return {
            stage: {"p50": float(np.percentile(v, 50)), "p95": float(np.percentile(v, 95)), "n": len(v)}
            for stage, v in self.samples.items()
        }


def find_images(folder: Path, limit: int) -> list[Path]:
    """Up to ``limit`` image files under ``folder`` (recursively), in a stable spread-out order."""
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if len(paths) > limit:
        paths = [paths[i] for i in np.linspace(0, len(paths) - 1, limit).astype(int)]
    return paths


def random_gallery(model_id: str, dim: int, size: int, seed: int = 0) -> Gallery[int]:
    """``size`` random unit-norm templates, one per identity."""
    rows = np.random.default_rng(seed).standard_normal((size, dim), dtype=np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    gallery: Gallery[int] = Gallery(model_id, dim, capacity=size)
    gallery.extend(range(size), rows, model_id)
    return gallery


def run_bench(pipeline: FacePipeline, paths: Sequence[Path], warmup: int = 3) -> Iterator[StageTimes]:
    """Time every stage for each image (after ``warmup`` untimed images); yields after each image."""
    spec = pipeline.spec
    galleries = {size: random_gallery(spec.id, spec.dim, size) for size in GALLERY_SIZES}
    small = galleries[GALLERY_SIZES[0]]
    for path in list(paths[:warmup]):
        end_to_end(pipeline, path, small)
    times = StageTimes()
    for path in paths:
        image = times.timed("decode", read_image, path)
        faces = times.timed("detect", pipeline.detect, image)
        face = central_face(faces, image.shape)
        if face is not None:
            chips = times.timed("align", pipeline.align, image, [face])
            encoding = times.timed("encode", pipeline.encode, chips)
            for size, gallery in galleries.items():
                times.timed(f"identify_{size // 1000}k", gallery.identify, encoding, spec.threshold, spec.id)
        times.timed("end_to_end", end_to_end, pipeline, path, small)
        yield times


def end_to_end(pipeline: FacePipeline, path: Path, gallery: Gallery[int]) -> None:
    """One photo from file to decision: decode, detect, align, encode, identify every face."""
    pipeline.identify(read_image(path), gallery)
