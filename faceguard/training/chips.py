"""Training chips: aligned faces cut from the training photos (detected and cached, or pre-aligned crops).

Photos are either raw (the detector finds the face nearest the centre and aligns it exactly as the
kiosk's ``FacePipeline`` does) or crops distributed already aligned in a known layout
(``ALIGNED_LAYOUTS``), which are used as they are or re-warped into the target layout.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from faceguard.core.errors import ImageError
from faceguard.training.photos import FaceImage, TrainingDataError, count_of, identities_in_order, listed, relabel
from faceguard.vision.align import ARCFACE_112_TEMPLATE, align_face, estimate_similarity, warp_chip
from faceguard.vision.image_io import read_image
from faceguard.vision.pipeline import FacePipeline, central_face
from faceguard.vision.weights import cache_dir

#: Pre-aligned crop layouts ``make_chip_set(aligned=...)`` accepts: name -> (crop size, template).
ALIGNED_LAYOUTS: dict[str, tuple[int, np.ndarray]] = {"arcface112": (112, ARCFACE_112_TEMPLATE)}

#: Part of every cache key: bump it when detection or alignment changes the chips they produce.
CHIP_CACHE_VERSION = "retinaface-central-v1"
#: Two templates closer than this (chip pixels, every coordinate) are taken as the same layout.
_SAME_LAYOUT_PX = 1e-3

ProgressCallback = Callable[[int, int], None]


@dataclass
class ScanReport:
    """What ``make_chip_set`` made of the photos.

    identities / images: people and chips kept; singletons: people with exactly one usable photo (kept,
    but they can only serve as negatives); unreadable: (path, message) of files that could not be
    decoded or have the wrong size; no_face: photos in which the detector found no face.
    """

    identities: int
    images: int
    singletons: list[str] = field(default_factory=list)
    unreadable: list[tuple[Path, str]] = field(default_factory=list)
    no_face: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        sentences = [f"{count_of(self.images, 'face chip')} of {count_of(self.identities, 'person', 'people')} ready."]
        if self.singletons:
            sentences.append(
                f"{count_of(len(self.singletons), 'person has', 'people have')} a single usable photo and "
                f"will serve only as negatives: {listed(self.singletons)}."
            )
        if self.unreadable:
            sentences.append(
                f"{count_of(len(self.unreadable), 'file')} could not be used: "
                f"{listed([f'{path.parent.name}/{path.name} ({message})' for path, message in self.unreadable])}."
            )
        if self.no_face:
            sentences.append(
                f"{count_of(len(self.no_face), 'photo')} showed no face: "
                f"{listed([f'{path.parent.name}/{path.name}' for path in self.no_face])}."
            )
        return " ".join(sentences)


@dataclass(frozen=True, eq=False)
class ChipSet:
    """Aligned chips ready for training: chips (N, S, S, 3) uint8, labels (N,) int64 in 0..K-1,
    identities[label] = the person's name, paths[n] = the photo chip n came from."""

    chips: np.ndarray
    labels: np.ndarray
    identities: list[str]
    paths: list[Path]
    report: ScanReport


def make_chip_set(
    images: Sequence[FaceImage],
    size: int,
    template: np.ndarray,
    *,
    aligned: str | None = None,
    pipeline: FacePipeline | None = None,
    cache: Path | None = None,
    progress: ProgressCallback | None = None,
) -> ChipSet:
    """Aligned (size, size) chips whose landmarks land on ``template``, one per usable photo.

    ``aligned=None``: raw photos. The detector (``pipeline``; loaded on the first photo not found in
    the cache when None) finds the faces, the one nearest the centre is aligned with ``align_face``
    exactly as ``FacePipeline.align`` does. Chips (and "no face" findings) are cached as one
    compressed ``.npz`` per photo under ``cache`` (default: the user cache folder's
    ``training-chips``), keyed by the photo's path, size and modification time and by ``size`` and
    ``template``, so a second run skips detection.

    ``aligned="arcface112"`` (a key of ``ALIGNED_LAYOUTS``): crops already aligned in that layout.
    Into the same layout they are used unchanged (after checking their size); into another one they
    are re-warped by the fixed similarity that best maps (least squares) the layout's template onto
    ``template``; templates of different shapes cannot coincide, so the landmarks land where that
    similarity puts them (1.7-2.7 px from the dlib ResNet's template for ArcFace crops). Whatever the
    target chip shows beyond the crop's borders is black: e.g. the dlib ResNet's 150 layout
    (``DLIB_RESNET_V1``) reaches about 9 crop pixels below an ArcFace crop, so the bottom ~13 rows
    of its chips are black (and the crop is enlarged 1.54x, so the chip is softer than a chip cut
    from the original photo). Decoding a crop and warping it (0.38 + 0.06 ms on one core) cost about
    what reading a cached chip would (0.37 ms), so this path is not cached.

    Photos that cannot be decoded (or crops of the wrong size) go to ``report.unreadable``, photos
    without a face to ``report.no_face``; both are skipped. People left with one usable photo are
    listed in ``report.singletons`` (kept, for negatives); people left with none are dropped and the
    labels renumbered 0.. in the order of the original labels. ``progress(done, total)`` is called
    after every photo. Raises TrainingDataError when no photo is usable.
    """
    target = _as_template(template)
    if int(size) != size or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    size = int(size)
    if aligned is not None and aligned not in ALIGNED_LAYOUTS:
        known = ", ".join(sorted(ALIGNED_LAYOUTS))
        raise TrainingDataError(f"Unknown aligned layout '{aligned}'. Known layouts: {known}.")
    if not images:
        raise TrainingDataError("There are no photos to prepare.")

    report = ScanReport(identities=0, images=0)
    chip_of: Callable[[Path], np.ndarray | None]
    if aligned is None:
        chip_of = _DetectedChips(size, target, pipeline, Path(cache) if cache is not None else None)
    else:
        chip_of = _AlignedCrops(aligned, size, target)
    kept: list[tuple[FaceImage, np.ndarray]] = []
    for done, image in enumerate(images, start=1):
        try:
            chip = chip_of(image.path)
        except ImageError as error:
            report.unreadable.append((image.path, str(error)))
        else:
            if chip is None:
                report.no_face.append(image.path)
            else:
                kept.append((image, chip))
        if progress is not None:
            progress(done, len(images))

    if not kept:
        raise TrainingDataError(
            f"None of the {count_of(len(images), 'photo')} could be used: {len(report.unreadable)} could not "
            f"be read and {len(report.no_face)} showed no face."
        )
    relabelled = relabel([image for image, _ in kept])
    identities = identities_in_order(relabelled)
    labels = np.array([image.label for image in relabelled], dtype=np.int64)
    counts = np.bincount(labels, minlength=len(identities))
    report.identities, report.images = len(identities), len(kept)
    report.singletons = [name for name, count in zip(identities, counts) if count == 1]
    return ChipSet(
        chips=np.stack([chip for _, chip in kept]),
        labels=labels,
        identities=identities,
        paths=[image.path for image in relabelled],
        report=report,
    )


class _DetectedChips:
    """Raw photo -> chip of the face nearest the centre (None: no face), through the chip cache."""

    def __init__(self, size: int, template: np.ndarray, pipeline: FacePipeline | None, cache: Path | None) -> None:
        self.size, self.template, self.pipeline = size, template, pipeline
        self.folder = cache if cache is not None else cache_dir() / "training-chips"
        self.template_key = template.astype(np.float32).tobytes()

    def __call__(self, path: Path) -> np.ndarray | None:
        try:
            stat = path.stat()
        except OSError:
            stat = None  # read_image below raises the ImageError that explains why
        entry = self._entry(path, stat) if stat is not None else None
        if entry is not None and entry.is_file():
            cached = _load_chip(entry, self.size)
            if cached is not None:
                return cached if len(cached) else None
        image = read_image(path)
        if self.pipeline is None:
            self.pipeline = FacePipeline.load()
        face = central_face(self.pipeline.detect(image), image.shape)
        chip = None if face is None else align_face(image, face.landmarks, self.template, self.size)
        if entry is not None:
            _store_chip(entry, np.empty((0, self.size, self.size, 3), np.uint8) if chip is None else chip[None])
        return chip

    def _entry(self, path: Path, stat: os.stat_result) -> Path:
        digest = hashlib.sha256()
        for part in (CHIP_CACHE_VERSION, str(path.resolve()), str(stat.st_size), str(stat.st_mtime_ns), str(self.size)):
            digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
        digest.update(self.template_key)
        return self.folder / f"{digest.hexdigest()[:32]}.npz"


class _AlignedCrops:
    """Pre-aligned crop in ``layout`` -> chip in the target layout (unchanged when it is the same)."""

    def __init__(self, layout: str, size: int, template: np.ndarray) -> None:
        self.layout = layout
        self.crop_size, crop_template = ALIGNED_LAYOUTS[layout]
        same = size == self.crop_size and np.abs(template - crop_template).max() <= _SAME_LAYOUT_PX
        self.matrix = None if same else estimate_similarity(crop_template, template)
        self.size = size

    def __call__(self, path: Path) -> np.ndarray:
        crop = read_image(path)
        if crop.shape[:2] != (self.crop_size, self.crop_size):
            raise ImageError(
                f"'{path.name}' is {crop.shape[1]}x{crop.shape[0]} pixels, not the "
                f"{self.crop_size}x{self.crop_size} of an aligned {self.layout} crop."
            )
        return crop if self.matrix is None else warp_chip(crop, self.matrix, self.size)


def _load_chip(entry: Path, size: int) -> np.ndarray | None:
    """The cached (1 or 0, size, size, 3) array, or None when the entry is unreadable (then rebuilt)."""
    try:
        with np.load(entry, allow_pickle=False) as archive:
            chips: np.ndarray = archive["chips"]
    except Exception:  # noqa: BLE001 - any damaged cache entry is simply made again
        return None
    if chips.dtype != np.uint8 or chips.shape[1:] != (size, size, 3) or len(chips) > 1:
        return None
    return chips[0] if len(chips) else chips


def _store_chip(entry: Path, chips: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, chips=chips)
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        partial = entry.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(buffer.getvalue())
        os.replace(partial, entry)  # atomic: a concurrent run never reads half an entry
    except OSError:
        pass  # a cache that cannot be written only costs speed


def _as_template(template: np.ndarray) -> np.ndarray:
    array = np.asarray(template, dtype=np.float32)  # as FacePipeline holds its template
    if array.shape != (5, 2) or not np.isfinite(array).all():
        raise ValueError(f"template must be 5 finite (x, y) points, got shape {array.shape}")
    return array
