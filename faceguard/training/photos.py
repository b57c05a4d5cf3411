"""Training photos: a folder per person, scanned and labelled, and split by person.

The folder layout is ``root/Name/*.jpg`` (any of ``IMAGE_SUFFIXES``, any case): one sub-folder per
person, named after them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceguard.core.errors import FaceGuardError
from faceguard.vision.image_io import IMAGE_SUFFIXES


class TrainingDataError(FaceGuardError):
    """The training photos cannot be used as given (missing folder, too few people, nothing usable)."""

    exit_code = 2


@dataclass(frozen=True)
class FaceImage:
    """One photo of ``identity`` (its folder name), with that identity's integer ``label``."""

    path: Path
    identity: str
    label: int


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
    names = identities_in_order(images)
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
        asked = f"A validation fraction of {validation} ({count_of(count, 'person', 'people')})"
    if count < 2 or total - count < 2:
        raise TrainingDataError(
            f"{asked} out of {count_of(total, 'person', 'people')} leaves fewer than two people on one side; "
            f"training and validation each need at least two."
        )
    drawn = np.random.default_rng(seed).permutation(total)[:count]
    held_out = {names[index] for index in drawn}
    train = relabel([image for image in images if image.identity not in held_out])
    val = relabel([image for image in images if image.identity in held_out])
    return train, val


def identities_in_order(images: Sequence[FaceImage]) -> list[str]:
    """The identities of ``images`` ordered by their lowest label, then by name."""
    lowest: dict[str, int] = {}
    for image in images:
        lowest[image.identity] = min(lowest.get(image.identity, image.label), image.label)
    return sorted(lowest, key=lambda name: (lowest[name], name))


def relabel(images: Sequence[FaceImage]) -> list[FaceImage]:
    """``images`` with labels 0.. again, in the order of their original labels."""
    new_label = {name: label for label, name in enumerate(identities_in_order(images))}
    return [FaceImage(image.path, image.identity, new_label[image.identity]) for image in images]


def count_of(number: int, singular: str, plural: str | None = None) -> str:
    """``number`` with the noun in the right number, e.g. "1 person", "3 people"."""
    return f"{number:,} {singular if number == 1 else plural or singular + 's'}"


def listed(items: Sequence[str], limit: int = 5) -> str:
    """The first ``limit`` items, then how many more there are."""
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit:,} more"
