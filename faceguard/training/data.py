"""Training data: a folder per person → identity split → aligned chips (cached) → torch dataset and pairs.

The folder layout is ``root/Name/*.jpg`` (any of ``IMAGE_SUFFIXES``, any case): one sub-folder per
person, named after them. Photos are either raw (the detector finds the face nearest the centre and
aligns it exactly as the kiosk's ``FacePipeline`` does) or crops distributed already aligned in a
known layout (``ALIGNED_LAYOUTS``), which are used as they are or re-warped into the target layout.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from faceguard.core.errors import FaceGuardError, ImageError
from faceguard.vision.align import (
    ARCFACE_112_TEMPLATE,
    align_face,
    estimate_similarity,
    warp_chip,
)
from faceguard.vision.image_io import IMAGE_SUFFIXES, read_image
from faceguard.vision.pipeline import FacePipeline, central_face
from faceguard.vision.weights import cache_dir

#: Pre-aligned crop layouts ``prepare_chips(aligned=...)`` accepts: name -> (crop size, template).
ALIGNED_LAYOUTS: dict[str, tuple[int, np.ndarray]] = {"arcface112": (112, ARCFACE_112_TEMPLATE)}

#: Part of every cache key: bump it when detection or alignment changes the chips they produce.
CHIP_CACHE_VERSION = "retinaface-central-v1"
#: Two templates closer than this (chip pixels, every coordinate) are taken as the same layout.
_SAME_LAYOUT_PX = 1e-3

ProgressCallback = Callable[[int, int], None]


class TrainingDataError(FaceGuardError):
    """The training photos cannot be used as given (missing folder, too few people, nothing usable)."""

    exit_code = 2


@dataclass(frozen=True)
class FaceImage:
    """One photo of ``identity`` (its folder name), with that identity's integer ``label``."""

    path: Path
    identity: str
    label: int


@dataclass
class ScanReport:
    """What ``prepare_chips`` made of the photos.

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
        sentences = [f"{_count(self.images, 'face chip')} of {_count(self.identities, 'person', 'people')} ready."]
        if self.singletons:
            sentences.append(
                f"{_count(len(self.singletons), 'person has', 'people have')} a single usable photo and "
                f"will serve only as negatives: {_names(self.singletons)}."
            )
        if self.unreadable:
            sentences.append(
                f"{_count(len(self.unreadable), 'file')} could not be used: "
                f"{_names([f'{path.parent.name}/{path.name} ({message})' for path, message in self.unreadable])}."
            )
        if self.no_face:
            sentences.append(
                f"{_count(len(self.no_face), 'photo')} showed no face: "
                f"{_names([f'{path.parent.name}/{path.name}' for path in self.no_face])}."
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


def scan_folder(root: Path) -> list[FaceImage]:
    """Every photo under ``root/Name/``, labelled 0.. in sorted order of the names.

    Only files directly inside a person's folder with an image suffix count; names starting with a
    dot (hidden files and folders) are skipped. Raises TrainingDataError when the folder is missing
    or empty, has no person folder with photos, or holds a single person.
    """
    root = Path(root)
    example = root / "Ada_Lovelace" / "01.jpg"
    hint = f"Put one sub-folder per person in it, each holding that person's photos (e.g. {example})."
    if not root.exists():
        raise TrainingDataError(f"The training folder '{root}' does not exist.")
    if not root.is_dir():
        raise TrainingDataError(f"'{root}' is a file, not a folder of training photos.")
    entries = sorted(entry for entry in root.iterdir() if not entry.name.startswith("."))
    if not entries:
        raise TrainingDataError(f"The training folder '{root}' is empty. {hint}")
    people: dict[str, list[Path]] = {}
    for folder in entries:
        if folder.is_dir():
            photos = sorted(
                path
                for path in folder.iterdir()
                if not path.name.startswith(".") and path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()
            )
            if photos:
                people[folder.name] = photos
    if not people:
        suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
        raise TrainingDataError(
            f"The training folder '{root}' has no person sub-folders with photos ({suffixes}) in them. {hint}"
        )
    if len(people) == 1:
        (name,) = people
        raise TrainingDataError(
            f"The training folder '{root}' holds photos of only one person ('{name}'); training needs at "
            f"least two people, one sub-folder each."
        )
    return [FaceImage(path, name, label) for label, name in enumerate(sorted(people)) for path in people[name]]


def split_identities(
    images: Sequence[FaceImage],
    validation: int | float,
    seed: int = 0,  # noqa: PYI041 - a count or a fraction
) -> tuple[list[FaceImage], list[FaceImage]]:
    """Split by person (nobody on both sides): (training images, validation images).

    ``validation`` is a number of people (int) or a fraction of them (float in (0, 1), rounded to the
    nearest count). The people are drawn with ``seed``. Each side keeps the images' order and gets
    labels 0.. again, in the order of the original labels. Raises TrainingDataError unless both sides
    have at least two people.
    """
    names = _identities_in_order(images)
    total = len(names)
    if isinstance(validation, bool) or not isinstance(validation, (int, float, np.integer, np.floating)):
        raise TypeError(f"validation must be a number of people or a fraction, got {validation!r}")
    if isinstance(validation, (int, np.integer)):
        count = int(validation)
        asked = f"{count} validation people"
    else:
        if not 0.0 < float(validation) < 1.0:
            raise TrainingDataError(
                f"A validation fraction must lie between 0 and 1 (exclusive); {validation} was given."
            )
        count = round(float(validation) * total)
        asked = f"A validation fraction of {validation} ({_count(count, 'person', 'people')})"
    if count < 2 or total - count < 2:
        raise TrainingDataError(
            f"{asked} out of {_count(total, 'person', 'people')} leaves fewer than two people on one side; "
            f"training and validation each need at least two."
        )
    drawn = np.random.default_rng(seed).permutation(total)[:count]
    held_out = {names[index] for index in drawn}
    train = _relabel([image for image in images if image.identity not in held_out])
    val = _relabel([image for image in images if image.identity in held_out])
    return train, val


def prepare_chips(
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
            f"None of the {_count(len(images), 'photo')} could be used: {len(report.unreadable)} could not "
            f"be read and {len(report.no_face)} showed no face."
        )
    relabelled = _relabel([image for image, _ in kept])
    identities = _identities_in_order(relabelled)
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


class ChipDataset(torch.utils.data.Dataset):
    """(float32 tensor (3, S, S) in [0, 255], label) pairs; augment=True adds a random horizontal flip and
    small brightness/contrast jitter (seeded per item, no torchvision).

    The n-th fetch of item i draws its augmentation from the generator seeded with (seed, i, n), so a
    photo looks different each epoch, yet two datasets with the same seed fetched in the same order
    give identical tensors (a run is reproducible; with DataLoader workers, per worker process).
    """

    #: Brightness: the chip times a factor in [1 - B, 1 + B]; contrast: its distance from its mean
    #: grey level times a factor in [1 - C, 1 + C] (as torchvision's ColorJitter(B, C)).
    BRIGHTNESS = 0.1
    CONTRAST = 0.1

    def __init__(self, chips: np.ndarray, labels: np.ndarray, augment: bool = False, seed: int = 0) -> None:
        if chips.ndim != 4 or chips.shape[3] != 3 or chips.dtype != np.uint8:
            raise ValueError(f"chips must be a uint8 array (N, S, S, 3), got {chips.dtype} {chips.shape}")
        labels = np.asarray(labels)
        if labels.shape != (len(chips),):
            raise ValueError(f"labels must have shape ({len(chips)},), got {labels.shape}")
        self.chips = chips
        self.labels = labels.astype(np.int64)
        self.augment = augment
        self.seed = int(seed)
        self._fetches = np.zeros(len(chips), dtype=np.int64)

    def __len__(self) -> int:
        return len(self.chips)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        index = int(index)
        chip = self.chips[index].astype(np.float32)
        if self.augment:
            rng = np.random.default_rng([self.seed, index % len(self), int(self._fetches[index])])
            self._fetches[index] += 1
            if rng.random() < 0.5:
                chip = chip[:, ::-1]
            grey = float((chip @ np.array([0.299, 0.587, 0.114], np.float32)).mean())
            contrast = rng.uniform(1 - self.CONTRAST, 1 + self.CONTRAST)
            brightness = rng.uniform(1 - self.BRIGHTNESS, 1 + self.BRIGHTNESS)
            chip = np.clip(((chip - grey) * contrast + grey) * brightness, 0.0, 255.0).astype(np.float32)
        tensor = torch.from_numpy(np.ascontiguousarray(chip.transpose(2, 0, 1), dtype=np.float32))
        return tensor, int(self.labels[index])


def verification_pairs(
    labels: np.ndarray, negatives_per_positive: float = 1.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i, j, same) for a verification test: every same-person pair i < j, then different-person
    pairs i < j drawn without repetition with ``seed``, round(positives x ratio) of them (or all there
    are). Each group is sorted by (i, j); i and j are int64, same is bool.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be one-dimensional, got shape {labels.shape}")
    if not np.isfinite(negatives_per_positive) or negatives_per_positive < 0:
        raise ValueError(f"negatives_per_positive must be >= 0, got {negatives_per_positive}")
    n = len(labels)
    positives = [np.empty(0, np.int64)]
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        first, second = np.triu_indices(len(members), 1)
        positives.append(members[first] * n + members[second])
    positive_keys = np.sort(np.concatenate(positives))
    available = n * (n - 1) // 2 - len(positive_keys)
    wanted = min(round(len(positive_keys) * negatives_per_positive), available)
    negative_keys = _negative_keys(labels, wanted, available, np.random.default_rng(seed))
    keys = np.concatenate([positive_keys, negative_keys]).astype(np.int64)
    same = np.zeros(len(keys), dtype=bool)
    same[: len(positive_keys)] = True
    return keys // max(n, 1), keys % max(n, 1), same


def _negative_keys(labels: np.ndarray, wanted: int, available: int, rng: np.random.Generator) -> np.ndarray:
    """``wanted`` distinct keys i * n + j (i < j, different labels), sorted."""
    n = len(labels)
    if wanted <= 0:
        return np.empty(0, np.int64)
    if n * (n - 1) // 2 <= 2_000_000 or 2 * wanted >= available:  # enumerate them all and choose
        first, second = np.triu_indices(n, 1)
        different = labels[first] != labels[second]
        keys = first[different].astype(np.int64) * n + second[different]
        return np.sort(rng.choice(keys, size=wanted, replace=False))
    chosen: set[int] = set()  # many people: rejection sampling, at least half the draws succeed
    while len(chosen) < wanted:
        draws = 2 * (wanted - len(chosen)) + 64
        a, b = rng.integers(0, n, draws), rng.integers(0, n, draws)
        ok = labels[a] != labels[b]
        low, high = np.minimum(a[ok], b[ok]), np.maximum(a[ok], b[ok])
        for key in (low.astype(np.int64) * n + high).tolist():
            if len(chosen) == wanted:
                break
            chosen.add(key)
    return np.sort(np.fromiter(chosen, dtype=np.int64, count=len(chosen)))


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
            chips = archive["chips"]
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


def _identities_in_order(images: Sequence[FaceImage]) -> list[str]:
    """The identities of ``images`` ordered by their lowest label, then by name."""
    lowest: dict[str, int] = {}
    for image in images:
        lowest[image.identity] = min(lowest.get(image.identity, image.label), image.label)
    return sorted(lowest, key=lambda name: (lowest[name], name))


def _relabel(images: Sequence[FaceImage]) -> list[FaceImage]:
    new_label = {name: label for label, name in enumerate(_identities_in_order(images))}
    return [FaceImage(image.path, image.identity, new_label[image.identity]) for image in images]


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number:,} {singular if number == 1 else plural or singular + 's'}"


def _names(items: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit:,} more"
