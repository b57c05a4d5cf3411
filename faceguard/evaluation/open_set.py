"""Open-set (1:N) identification, as at a door: is a face one of the N people enrolled, or a stranger?

Protocol on a folder of people (``root/Name/*.jpg``): each person with two or more photos is enrolled
from their first photo (sorted by file name) through FaceGuard's enrollment path with its quality
checks; a refusal counts towards the failure-to-enrol rate (FTE). Each enrolled person's second
photo is a mated probe; the one photo of each person who has a single photo is a non-mated probe (a
stranger). A probe is the face nearest its photo's centre (``faceguard.evaluation.encode``) searched
in the gallery. At a threshold, a non-mated probe whose nearest enrolled face lies within it is a
false positive (FPIR); a mated probe is a miss (FNIR) unless its nearest enrolled person is itself
and lies within it. A probe without a face is never matched.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from faceguard.core.errors import ImageError, QualityError
from faceguard.evaluation.metrics import far_frr_at, roc
from faceguard.evaluation.pairs import Pair
from faceguard.matching.calibration import Calibration, CalibrationError
from faceguard.matching.gallery import Gallery, Match
from faceguard.vision.image_io import IMAGE_SUFFIXES, read_image
from faceguard.vision.pipeline import FacePipeline


@dataclass(frozen=True)
class OpenSetSplit:
    """Photos by person: ``enrol`` and ``mated`` (first and second photo of people with two or more),
    ``nonmated`` (the photo of people with one)."""

    enrol: dict[str, Path]
    mated: dict[str, Path]
    nonmated: dict[str, Path]


@dataclass(frozen=True)
class OperatingPoint:
    threshold: float
    fpir: float
    fnir: float


@dataclass(frozen=True)
class Searches:
    """Each probe's nearest enrolled face: the distance (+inf without a face) and, for mated probes,
    whether it is the probe's own person."""

    mated_distance: np.ndarray
    mated_correct: np.ndarray
    nonmated_distance: np.ndarray

    @property
    def rank1(self) -> float:
        """Share of mated probes whose nearest enrolled person is themselves, at any distance."""
        return float(np.mean(self.mated_correct))

    def scores(self) -> tuple[np.ndarray, np.ndarray]:
        """(distances, mated) for the verification metrics: a mated probe scores its distance when its
        nearest person is right, else +inf (a miss at every threshold)."""
        mated = np.where(self.mated_correct, self.mated_distance, np.inf)
        distances = np.concatenate([mated, self.nonmated_distance])
        return distances, np.arange(distances.size) < mated.size

    def rates_at(self, threshold: float) -> tuple[float, float]:
        """(FPIR, FNIR) when accepting a nearest face at ``distance <= threshold``."""
        return far_frr_at(*self.scores(), threshold)

    def at_fpir(self, max_fpir: float) -> OperatingPoint:
        """The largest threshold of the DET curve whose FPIR is at most ``max_fpir`` (no interpolation)."""
        fpir, tpir, thresholds = roc(*self.scores())
        best = np.flatnonzero(fpir <= max_fpir)[-1]
        return OperatingPoint(float(thresholds[best]), float(fpir[best]), float(1.0 - tpir[best]))


def people_in(pairs: Sequence[Pair]) -> set[str]:
    """The people (folder names) a pairs file names."""
    return {path.parent.name for pair in pairs for path in (pair.path1, pair.path2)}


def split_people(root: Path, people: Collection[str] | None = None) -> OpenSetSplit:
    """The protocol's photos under ``root`` (only ``people`` when given)."""
    enrol, mated, nonmated = {}, {}, {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and (people is None or p.name in people)):
        photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if len(photos) == 1:
            nonmated[folder.name] = photos[0]
        elif photos:
            enrol[folder.name], mated[folder.name] = photos[:2]
    return OpenSetSplit(enrol, mated, nonmated)


def enroll(pipeline: FacePipeline, photos: Mapping[str, Path]) -> Iterator[tuple[str, np.ndarray | None, str | None]]:
    """Yield (person, encoding, None) per accepted photo, (person, None, reason) per refused one: the
    error class FaceGuard's enrollment raised (NoFaceError, NotFrontalError, ImageError...)."""
    for person, path in photos.items():
        try:
            encoded, _ = pipeline.enroll(read_image(path))
        except (ImageError, QualityError) as error:
            yield person, None, type(error).__name__
            continue
        yield person, encoded.encoding, None


def search(
    enrolled: Mapping[str, np.ndarray],
    mated: Mapping[str, np.ndarray | None],
    nonmated: Sequence[np.ndarray | None],
    model_id: str,
) -> Searches:
    """Search every probe (None: no face) in a ``Gallery`` of the ``enrolled`` encodings, one per person."""
    names = list(enrolled)
    gallery: Gallery[str] = Gallery(model_id, len(enrolled[names[0]]))
    gallery.extend(names, np.stack([enrolled[name] for name in names]), model_id)

    def nearest(probes: Sequence[np.ndarray | None]) -> list[tuple[object, float]]:
        found = [probe for probe in probes if probe is not None]
        matches = iter(gallery.identify(np.stack(found), np.inf, model_id) if found else [])
        return [(None, np.inf) if probe is None else _nearest(next(matches)) for probe in probes]

    mated_nearest = nearest(list(mated.values()))
    return Searches(
        mated_distance=np.array([distance for _, distance in mated_nearest], dtype=np.float64),
        mated_correct=np.array([found == person for (found, _), person in zip(mated_nearest, mated)], dtype=bool),
        nonmated_distance=np.array([distance for _, distance in nearest(nonmated)], dtype=np.float64),
    )


def report(
    searches: Searches,
    attempts: int,
    failures: Mapping[str, str],
    calibration: Calibration | None,
    max_fpir: float,
    model_threshold: float,
) -> dict[str, Any]:
    """The figures of a run: FTE by reason, rank-1, FNIR at FPIR 1 % and 0.1 %, and FPIR/FNIR measured
    (and predicted by the calibration) at the model's 1:1 threshold and at the site threshold that
    ``calibration`` derives for this gallery size and ``max_fpir``."""
    enrolled = attempts - len(failures)
    reasons = sorted(set(failures.values()))
    figures: dict[str, Any] = {
        "enrolment_attempts": attempts,
        "enrolled": enrolled,
        "fte": len(failures) / attempts,
        "fte_by_reason": {reason: list(failures.values()).count(reason) for reason in reasons},
        "mated_probes": int(searches.mated_distance.size),
        "nonmated_probes": int(searches.nonmated_distance.size),
        "probes_without_face": {
            "mated": int(np.isinf(searches.mated_distance).sum()),
            "nonmated": int(np.isinf(searches.nonmated_distance).sum()),
        },
        "rank1": searches.rank1,
        "fnir_at_fpir": {str(rate): vars(searches.at_fpir(rate)) for rate in (0.01, 0.001)},
        "model_threshold": _at(searches, calibration, model_threshold, enrolled),
        "site_threshold": {"max_fpir": max_fpir, "threshold": None},
    }
    if calibration is None:
        figures["site_threshold"]["problem"] = "the model has no calibration file"
        return figures
    try:
        threshold = calibration.site_threshold(max_fpir, enrolled)
    except CalibrationError as error:
        figures["site_threshold"]["problem"] = str(error)
        return figures
    figures["site_threshold"].update(_at(searches, calibration, threshold, enrolled))
    return figures


def _at(searches: Searches, calibration: Calibration | None, threshold: float, enrolled: int) -> dict[str, Any]:
    fpir, fnir = searches.rates_at(threshold)
    predicted = calibration.open_set_rates(threshold, enrolled) if calibration else None
    return {
        "threshold": threshold,
        "fpir": fpir,
        "fnir": fnir,
        "predicted": dict(zip(("fpir", "fnir"), predicted)) if predicted else None,
    }


def _nearest(match: Match[str]) -> tuple[object, float]:
    return match.nearest, match.distance
