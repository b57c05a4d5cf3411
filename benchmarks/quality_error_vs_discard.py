"""Which enrollment quality limits lower the recognition error? Error-versus-discard curves on LFW.

Run from the repository root (about ten minutes on one CPU core per model; reruns read a cache):

    .venv/bin/python benchmarks/quality_error_vs_discard.py --root /work/shared/data/lfw-dev [--model sface]

Every image of LFW View 1 DevTrain goes once through FaceGuard's pipeline (the face nearest the centre,
as ``faceguard evaluate`` takes it): detect, align, ``assess_quality``, encode. All same-person and
different-person pairs among those images are compared (not only the 2,200 listed pairs); the
threshold giving FMR 1e-3 on all of them is fixed. For each quality figure, pairs whose worse image
lies beyond a candidate limit are discarded and the FNMR of the rest is measured at that fixed
threshold (an ISO/IEC 29794-1 error-versus-discard curve). A discard lowers the error *measurably*
when the FNMR drop exceeds twice its standard error, bootstrapped over people (pairs of one person
are not independent). The same run counts failure to enrol (FTE) on the View 1 "first photos": the
first image, in sorted order, of every person with at least two images in ``ROOT/lfw``, taken the
enrollment way (``single_face``, then ``check_usable`` and ``check_quality``).

Ordinary photos barely go below where recognition fails, so a second part degrades ``--probes``
DevTrain photos (shrunk, darkened, brightened, blurred) and measures their FNMR against every other
DevTrain image at the same threshold, binned by the figure the degradation moves.

Writes ``docs/quality/edc-<model>.png`` (one panel per figure), ``docs/quality/degraded-<model>.png`` and
``docs/quality/edc-<model>.json``. No image is copied or stored; the caches in /tmp hold only figures
and encodings (delete them, or pass --refresh, after changing ``assess_quality``).
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import cv2
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from tqdm import tqdm

from faceguard.app.settings import KioskSettings
from faceguard.core.errors import ImageError, MultipleFacesError, NoFaceError, QualityError
from faceguard.evaluation.encode import unique_images
from faceguard.evaluation.metrics import roc
from faceguard.evaluation.pairs import read_pairs
from faceguard.matching.gallery import face_distance
from faceguard.vision.image_io import read_image
from faceguard.vision.pipeline import FacePipeline, central_face
from faceguard.vision.quality import QualityReport, QualityThresholds, assess_quality, check_quality, check_usable
from faceguard.vision.spec import get_model_spec

FIGURES = [field.name for field in fields(QualityReport)]
#: Image-level quantiles (from the bad end) at which candidate limits are placed.
QUANTILES = (0.0, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)
BOOTSTRAP = 1000
#: A limit may cost at most this fraction of ordinary photos (the FTE target is 2% for all limits together).
IMAGE_BUDGET = 0.01
OUT = Path(__file__).resolve().parents[1] / "docs" / "quality"


@dataclass(frozen=True)
class Limit:
    """A one-sided limit on a figure: images with ``sign * value < sign * limit`` are discarded.

    ``sign`` +1 for a minimum, -1 for a maximum; ``absolute`` compares ``|value|`` (yaw)."""

    name: str
    figure: str
    sign: int
    absolute: bool = False

    @property
    def in_use(self) -> float:
        """The limit's value in ``QualityThresholds``: NaN if it has none, inf if it is off."""
        return float(getattr(QualityThresholds(), self.name, math.nan))

    def value(self, figures: np.ndarray) -> np.ndarray:
        """The figure as a "higher is better" score, per image."""
        value = figures[:, FIGURES.index(self.figure)]
        return self.sign * (np.abs(value) if self.absolute else value)


#: The limits before this benchmark (fitted on five portraits; sharpness then not exposure-normalised),
#: drawn for comparison.
BEFORE = {
    "min_face_size": 80.0,
    "min_sharpness": 40.0,
    "min_brightness": 50.0,
    "max_brightness": 200.0,
    "max_clipped": 0.25,
    "max_yaw": 0.3,
    "min_pitch": 0.3,
    "max_pitch": 0.8,
}
LIMITS = (
    Limit("min_face_size", "face_size", 1),
    Limit("min_eye_distance", "eye_distance", 1),
    Limit("min_sharpness", "sharpness", 1),
    Limit("min_brightness", "brightness", 1),
    Limit("max_brightness", "brightness", -1),
    Limit("max_clipped", "clipped", -1),
    Limit("max_yaw", "yaw", -1, absolute=True),
    Limit("min_pitch", "pitch", 1),
    Limit("max_pitch", "pitch", -1),
    Limit("min_detector_score", "detector_score", 1),
)


def first_photos(image_root: Path) -> list[Path]:
    """The first image (sorted) of every person with at least two images."""
    firsts = []
    for person in sorted(p for p in image_root.iterdir() if p.is_dir()):
        images = sorted(person.glob("*.jpg"))
        if len(images) >= 2:
            firsts.append(images[0])
    return firsts


def measure(pipeline: FacePipeline, paths: list[Path], firsts: set[Path]) -> dict[str, np.ndarray]:
    """Per image: the central face's figures and encoding (NaN without a face), and for first photos
    the enrollment outcome ("ok", "no face", "several faces", "unreadable") with the enrolled face's figures."""
    count, width = len(paths), len(FIGURES)
    data = {
        "paths": np.array([str(p) for p in paths]),
        "figures": np.full((count, width), np.nan),
        "encodings": np.full((count, pipeline.spec.dim), np.nan, np.float32),
        "enroll_figures": np.full((count, width), np.nan),
        "enroll_outcome": np.full(count, "", dtype="<U16"),
    }
    for i, path in enumerate(tqdm(paths, desc="measuring", unit="img")):
        try:
            image = read_image(path)
        except ImageError:
            data["enroll_outcome"][i] = "unreadable"
            continue
        faces = pipeline.detect(image)
        if (face := central_face(faces, image.shape)) is not None:
            encoded = pipeline.encode_faces(image, [face])[0]
            data["figures"][i] = astuple(assess_quality(image, face))
            data["encodings"][i] = encoded.encoding
        if path not in firsts:
            continue
        try:  # with one detection, single_face would return the central face: skip detecting again
            single = face if len(faces) == 1 else pipeline.single_face(image)
        except NoFaceError:
            data["enroll_outcome"][i] = "no face"
            continue
        except MultipleFacesError:
            data["enroll_outcome"][i] = "several faces"
            continue
        data["enroll_outcome"][i] = "ok"
        data["enroll_figures"][i] = astuple(assess_quality(image, single))
    return data


def load_or_measure(
    args: argparse.Namespace, spec_id: str, paths: list[Path], firsts: set[Path]
) -> dict[str, np.ndarray]:
    cache = Path(f"/tmp/faceguard-quality-{spec_id.replace('@', '-')}.npz")
    if cache.exists() and not args.refresh:
        with np.load(cache) as stored:
            data = dict(stored)
        if list(data["paths"]) == [str(p) for p in paths]:
            return data
    pipeline = FacePipeline.load(device="cpu", threads=args.threads, model=spec_id.split("@")[0])
    data = measure(pipeline, paths, firsts)
    np.savez(cache, **data)
    return data


@dataclass(frozen=True)
class PairSet:
    """Comparisons between encoded images: image indices, distance, genuine flag, person of genuine pairs."""

    first: np.ndarray
    second: np.ndarray
    distance: np.ndarray
    same: np.ndarray
    person: np.ndarray


def all_pairs(encodings: np.ndarray, people: np.ndarray, normalize: bool) -> PairSet:
    """Every pair of encoded images (i < j)."""
    index = np.flatnonzero(~np.isnan(encodings[:, 0]))
    vectors = encodings[index]
    if normalize:
        vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    i, j = np.triu_indices(len(index), 1)
    distance = face_distance(vectors, vectors)[i, j]
    first, second = index[i], index[j]
    same = people[first] == people[second]
    return PairSet(first, second, distance, same, np.where(same, people[first], -1))


def listed_pairs(
    pairs_file: Path, root: Path, paths: list[Path], encodings: np.ndarray, people: np.ndarray, normalize: bool
) -> PairSet:
    """The pairs the pairs file lists (pairs with an image without a face are left out)."""
    position = {path: k for k, path in enumerate(paths)}
    listed = read_pairs(pairs_file, root)
    first = np.array([position[p.path1] for p in listed])
    second = np.array([position[p.path2] for p in listed])
    keep = ~np.isnan(encodings[first, 0]) & ~np.isnan(encodings[second, 0])
    first, second = first[keep], second[keep]
    a, b = encodings[first], encodings[second]
    if normalize:
        a, b = (v / np.linalg.norm(v, axis=1, keepdims=True) for v in (a, b))
    distance = np.linalg.norm(a - b, axis=1)
    same = np.array([p.same for p in listed])[keep]
    return PairSet(first, second, distance, same, np.where(same, people[first], -1))


def threshold_at_fmr(pairs: PairSet, fmr: float) -> float:
    """The largest distance threshold whose FMR on ``pairs`` is at most ``fmr``."""
    fars, _, thresholds = roc(pairs.distance, pairs.same)
    return float(thresholds[np.flatnonzero(fars <= fmr)[-1]])


def candidates(limit: Limit, scores: np.ndarray) -> np.ndarray:
    """Candidate limits as "higher is better" scores: image quantiles, plus the limit in use."""
    values = np.quantile(scores[~np.isnan(scores)], QUANTILES)
    values[0] = -np.inf  # discard nothing
    if math.isfinite(limit.in_use):
        values = np.append(values, limit.sign * limit.in_use)
    return np.unique(values)


def curve(
    limit: Limit, figures: np.ndarray, pairs: PairSet, threshold: float, rng: np.random.Generator
) -> list[dict[str, float]]:
    """The error-versus-discard points of ``limit`` on ``pairs`` at the fixed ``threshold``."""
    scores = limit.value(figures)
    worse = np.minimum(scores[pairs.first], scores[pairs.second])
    genuine, error = pairs.same, pairs.distance > threshold
    people = np.unique(pairs.person[genuine])
    person_of = np.searchsorted(people, pairs.person[genuine])
    weights = rng.multinomial(len(people), np.full(len(people), 1 / len(people)), size=BOOTSTRAP)
    points, baseline = [], None
    for value in candidates(limit, scores):
        kept = worse >= value
        kept_genuine = kept[genuine]
        per_kept = np.bincount(person_of, kept_genuine, len(people))
        per_error = np.bincount(person_of, kept_genuine & error[genuine], len(people))
        fnmr_boot = (weights @ per_error) / np.maximum(weights @ per_kept, 1)
        baseline = fnmr_boot if baseline is None else baseline
        fnmr = float(per_error.sum() / max(per_kept.sum(), 1))
        drop_se = float(np.std(baseline - fnmr_boot, ddof=1))
        impostor = ~genuine & kept
        points.append(
            {
                "limit": None if np.isinf(value) else round(float(limit.sign * value), 4),
                "images_discarded": float(np.mean(scores[~np.isnan(scores)] < value)),
                "genuine_discarded": float(1 - kept_genuine.mean()),
                "pairs_discarded": float(1 - kept.mean()),
                "fnmr": fnmr,
                "fnmr_se": float(np.std(fnmr_boot, ddof=1)),
                "fmr": float(np.mean(~error[impostor])) if impostor.any() else 0.0,
                "drop_se": drop_se,
            }
        )
    for point in points:
        point["drop"] = points[0]["fnmr"] - point["fnmr"]
        point["measurable"] = bool(point["drop"] > 2 * point["drop_se"] > 0)
    return points


#: Degradations of the probe photos: (kind, levels); "scale" shrinks the photo, "dark" multiplies its
#: pixel values ("bright" too, clipping at 255), "blur" applies a Gaussian blur of that sigma in pixels
#: (LFW faces are ~100 px wide);
#: scale 1.0 is the undegraded baseline.
DEGRADATIONS = (
    ("scale", (1.0, 0.6, 0.45, 0.35, 0.25, 0.18, 0.13)),
    ("dark", (0.3, 0.15, 0.07, 0.035)),
    ("blur", (1.5, 3.0, 5.0, 8.0)),
    ("bright", (1.8, 2.6, 4.0)),
)


def degrade(image: np.ndarray, kind: str, level: float) -> np.ndarray:
    if kind == "scale":
        return cv2.resize(image, None, fx=level, fy=level, interpolation=cv2.INTER_AREA)
    if kind in ("dark", "bright"):
        return np.clip(image * level, 0, 255).astype(np.uint8)
    return cv2.GaussianBlur(image, (0, 0), level)


def sweep_probes(paths: list[Path], encodings: np.ndarray, people: np.ndarray, count: int) -> list[Path]:
    """Up to ``count`` images: the first encoded DevTrain image of every k-th person with two or more."""
    encoded = np.flatnonzero(~np.isnan(encodings[:, 0]))
    _, first, counts = np.unique(people[encoded], return_index=True, return_counts=True)
    firsts = encoded[first[counts >= 2]]
    step = max(len(firsts) // count, 1)
    return [paths[k] for k in firsts[::step][:count]]


def sweep(args: argparse.Namespace, spec_id: str, probes: list[Path]) -> dict[str, np.ndarray]:
    """Degraded copies of ``probes`` through the pipeline (central face): one row per (probe, degradation)
    with its figures and encoding, NaN where no face was found. Cached like :func:`load_or_measure`;
    degradations missing from the cache are added to it."""
    cache = Path(f"/tmp/faceguard-quality-sweep-{spec_id.replace('@', '-')}.npz")
    names = np.array([str(p) for p in probes])
    data = {
        "probes": names,
        "probe": np.empty(0, int),
        "kinds": np.empty(0, "<U8"),
        "levels": np.empty(0),
        "figures": np.empty((0, len(FIGURES))),
        "encodings": None,
    }
    if cache.exists() and not args.refresh:
        with np.load(cache) as stored:
            if np.array_equal(stored["probes"], names):
                data = dict(stored)
    done = set(zip(data["kinds"], data["levels"]))
    runs = [(kind, level) for kind, levels in DEGRADATIONS for level in levels if (kind, level) not in done]
    if not runs:
        return data
    pipeline = FacePipeline.load(device="cpu", threads=args.threads, model=spec_id.split("@")[0])
    rows = len(runs) * len(probes)
    figures, encodings = np.full((rows, len(FIGURES)), np.nan), np.full((rows, pipeline.spec.dim), np.nan, np.float32)
    with tqdm(total=rows, desc="degrading", unit="img") as progress:
        for p, path in enumerate(probes):
            image = read_image(path)
            for r, (kind, level) in enumerate(runs):
                degraded = degrade(image, kind, level)
                if (face := central_face(pipeline.detect(degraded), degraded.shape)) is not None:
                    encoded = pipeline.encode_faces(degraded, [face])[0]
                    figures[p * len(runs) + r] = astuple(assess_quality(degraded, face))
                    encodings[p * len(runs) + r] = encoded.encoding
                progress.update()
    previous = data["encodings"] if data["encodings"] is not None else np.empty((0, pipeline.spec.dim), np.float32)
    data = {
        "probes": names,
        "probe": np.concatenate([data["probe"], np.repeat(np.arange(len(probes)), len(runs))]),
        "kinds": np.concatenate([data["kinds"], [kind for _ in probes for kind, _ in runs]]),
        "levels": np.concatenate([data["levels"], [level for _ in probes for _, level in runs]]),
        "figures": np.concatenate([data["figures"], figures]),
        "encodings": np.concatenate([previous, encodings]),
    }
    np.savez(cache, **data)
    return data


#: Per degradation, the figure it lowers (sign 1) or raises (sign -1), on which its limit is read.
SWEEP_FIGURES = {
    "scale": ("face_size", 1),
    "dark": ("brightness", 1),
    "blur": ("sharpness", 1),
    "bright": ("brightness", -1),
}
SWEEP_BINS = 12


def sweep_rows(
    data: dict[str, np.ndarray],
    paths: list[str],
    encodings: np.ndarray,
    people: np.ndarray,
    threshold: float,
    normalize: bool,
) -> dict[str, np.ndarray]:
    """Per degraded probe: its genuine comparisons and how many of them fail at the fixed threshold,
    its impostor comparisons and how many of them match (against all other encoded DevTrain images)."""
    index = {path: k for k, path in enumerate(paths)}
    gallery = np.flatnonzero(~np.isnan(encodings[:, 0]))
    vectors, probe_vectors = encodings[gallery], data["encodings"]
    if normalize:
        vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        probe_vectors = probe_vectors / np.linalg.norm(probe_vectors, axis=1, keepdims=True)
    probe_rows = np.array([index[p] for p in data["probes"]])[data["probe"]]
    accepted = face_distance(np.nan_to_num(probe_vectors), vectors) <= threshold
    other = gallery[None, :] != probe_rows[:, None]
    same = (people[gallery][None, :] == people[probe_rows][:, None]) & other
    impostor = ~same & other
    return {
        "found": ~np.isnan(probe_vectors[:, 0]),
        "genuine": same.sum(1),
        "fnm": (same & ~accepted).sum(1),
        "impostor": impostor.sum(1),
        "fm": (impostor & accepted).sum(1),
    }


def sweep_errors(data: dict[str, np.ndarray], rows: dict[str, np.ndarray]) -> list[dict[str, object]]:
    """Per degradation: no-face rate, FNMR and FMR of the probes with a face, the FNMR rise over the
    undegraded probes with its bootstrap standard error (over probes), and the median figures."""
    probes = len(data["probes"])
    weights = np.random.default_rng(1).multinomial(probes, np.full(probes, 1 / probes), size=BOOTSTRAP)

    def boot_fnmr(mask: np.ndarray) -> np.ndarray:
        per = [np.bincount(data["probe"][mask], rows[key][mask], probes) for key in ("fnm", "genuine")]
        return (weights @ per[0]) / np.maximum(weights @ per[1], 1)

    base = boot_fnmr((data["kinds"] == "scale") & (data["levels"] == 1.0) & rows["found"])
    results = []
    for kind, levels in DEGRADATIONS:
        for level in levels:
            run = (data["kinds"] == kind) & (data["levels"] == level)
            found = run & rows["found"]
            genuine = rows["genuine"][found].sum()
            fnmr = rows["fnm"][found].sum() / genuine if genuine else math.nan
            rise = boot_fnmr(found) - base
            median = np.nanmedian(data["figures"][found], axis=0) if found.any() else np.full(len(FIGURES), np.nan)
            results.append(
                {
                    "kind": kind,
                    "level": level,
                    "no_face": float(1 - found.sum() / run.sum()),
                    "fnmr": float(fnmr),
                    "fnmr_rise": float(rise.mean()) if genuine else math.nan,
                    "fnmr_rise_se": float(np.std(rise, ddof=1)) if genuine else math.nan,
                    "fmr": float(rows["fm"][found].sum() / max(rows["impostor"][found].sum(), 1)),
                    "median": {f: round(float(v), 4) for f, v in zip(FIGURES, median)},
                }
            )
    return results


def sweep_bins(data: dict[str, np.ndarray], rows: dict[str, np.ndarray]) -> dict[str, list[dict[str, float]]]:
    """FNMR against the figure each degradation moves: the undegraded and that kind's degraded probes
    (with a face) pooled, sorted by the figure and cut into equal-count bins."""
    base = (data["kinds"] == "scale") & (data["levels"] == 1.0)
    bins = {}
    for kind, (figure, sign) in SWEEP_FIGURES.items():
        chosen = np.flatnonzero(((data["kinds"] == kind) | base) & rows["found"])
        column = data["figures"][:, FIGURES.index(figure)]
        bins[kind] = []
        for part in np.array_split(chosen[np.argsort(sign * column[chosen])], SWEEP_BINS):
            row_fnmr = rows["fnm"][part] / np.maximum(rows["genuine"][part], 1)
            bins[kind].append(
                {
                    "figure": figure,
                    "from": float(column[part].min()),
                    "to": float(column[part].max()),
                    "median": float(np.median(column[part])),
                    "fnmr": float(row_fnmr.mean()),
                    "fnmr_se": float(row_fnmr.std(ddof=1) / math.sqrt(len(part))),
                }
            )
    return bins


def plot_sweep(bins: dict[str, list[dict[str, float]]], baseline: float, title: str, path: Path) -> None:
    """FNMR of degraded probes against the figure the degradation moves, per equal-count bin."""
    figure = Figure(figsize=(16, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    for ax, (kind, points) in zip(figure.subplots(1, len(bins)), bins.items()):
        x = np.array([p["median"] for p in points])
        y, se = np.array([p["fnmr"] for p in points]), np.array([p["fnmr_se"] for p in points])
        ax.errorbar(x, y, yerr=2 * se, fmt="o-", capsize=2, label="FNMR ± 2 SE (equal-count bins)")
        ax.axhline(baseline, color="grey", linestyle=":", label=f"undegraded FNMR {baseline:.3f}")
        ax.axhline(0.5, color="tab:red", linestyle="--", linewidth=0.8, label="FNMR 0.5")
        ax.set_xscale("log")
        ax.set_xlabel(f"{points[0]['figure']} (log)")
        ax.set_ylabel("FNMR at the FMR 1e-3 threshold")
        ax.set_title(f"degradation: {kind}", fontsize=9)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7)
    figure.suptitle(title)
    figure.savefig(path, format="png", dpi=100)


def fte(data: dict[str, np.ndarray], firsts: set[Path], limits: QualityThresholds) -> dict[str, object]:
    """Enrollment outcomes of the first photos: hard refusals, warnings (check_quality) and their reasons."""
    refused: Counter[str] = Counter()
    warned: Counter[str] = Counter()
    for path, outcome, row in zip(data["paths"], data["enroll_outcome"], data["enroll_figures"]):
        if Path(path) not in firsts:
            continue
        if outcome != "ok":
            refused[outcome] += 1
            continue
        report = QualityReport(*row)
        try:
            check_usable(report)
        except QualityError as error:
            refused[type(error).__name__] += 1
            continue
        try:
            check_quality(report, limits)
        except QualityError as error:
            warned[type(error).__name__] += 1
    total = len(firsts)
    return {
        "photos": total,
        "refused": sum(refused.values()),
        "refused_rate": sum(refused.values()) / total,
        "refused_reasons": dict(refused.most_common()),
        "warned": sum(warned.values()),
        "warned_rate": sum(warned.values()) / total,
        "warned_reasons": dict(warned.most_common()),
    }


def propose(points: list[dict]) -> float | None:
    """The limit the curve supports: of the measurable candidates discarding at most ``IMAGE_BUDGET``
    of the images, the one with the largest FNMR drop; None when no candidate is measurable."""
    useful = [p for p in points[1:] if p["measurable"] and p["images_discarded"] <= IMAGE_BUDGET]
    return max(useful, key=lambda p: p["drop"])["limit"] if useful else None


def plot(results: dict[str, dict], title: str, path: Path) -> None:
    """One panel per limit: FNMR against the fraction of genuine pairs discarded, for both pair sets."""
    figure = Figure(figsize=(16, 13), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(4, 3).ravel()
    for ax, (name, result) in zip(axes, results.items()):
        for key, colour in (("all", "tab:blue"), ("listed", "tab:orange")):
            points = result[key]
            x, y = np.array([p["genuine_discarded"] for p in points]), np.array([p["fnmr"] for p in points])
            ax.plot(x, y, "o-", color=colour, markersize=3, label=f"{key} pairs")
            se = np.array([p["fnmr_se"] for p in points])
            ax.fill_between(x, y - se, y + se, color=colour, alpha=0.15)
        points = result["all"]
        x = np.linspace(0, 0.5, 51)
        ax.plot(x, np.maximum(points[0]["fnmr"] - x, 0) / (1 - x), ":", color="grey", label="ideal discard")
        for p in points[1:]:
            ax.annotate(
                f"{p['limit']:.3g}",
                (p["genuine_discarded"], p["fnmr"]),
                fontsize=6,
                color="tab:green" if p["measurable"] else "black",
            )
        ax.set_title(
            f"{name}: before {result['before']}, in use {result['in_use']}, proposed {result['proposed']}", fontsize=9
        )
        ax.set_xlabel("fraction of genuine pairs discarded")
        ax.set_ylabel("FNMR at FMR 1e-3 (fixed threshold)")
        ax.set_xlim(-0.01, 0.55)
        ax.set_ylim(bottom=0)
    axes[0].legend(fontsize=7)
    for ax in axes[len(results) :]:
        ax.set_visible(False)
    figure.suptitle(f"{title}; labels: limit values, green = FNMR drop > 2 bootstrap SE (all pairs)")
    figure.savefig(path, format="png", dpi=100)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=KioskSettings().model, help="a builtin or exported model")
    parser.add_argument(
        "--root",
        type=Path,
        default=Path("/work/shared/data/lfw-dev"),
        help="folder holding pairsDevTrain.txt and lfw/Name/*.jpg",
    )
    parser.add_argument("--pairs", type=Path, help="pairs file (default: ROOT/pairsDevTrain.txt)")
    parser.add_argument("--fmr", type=float, default=1e-3, help="FMR fixing the threshold (default: 1e-3)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for inference (default: 1)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNG and JSON (default: docs/quality)")
    parser.add_argument("--probes", type=int, default=300, help="DevTrain photos degraded for the sweep (default: 300)")
    parser.add_argument("--refresh", action="store_true", help="measure again instead of reading the cache")
    args = parser.parse_args()

    spec = get_model_spec(args.model)
    pairs_file = args.pairs or args.root / "pairsDevTrain.txt"
    image_root = args.root / "lfw"
    dev = unique_images(read_pairs(pairs_file, args.root))
    firsts = set(first_photos(image_root))
    paths = sorted(set(dev) | firsts)
    data = load_or_measure(args, spec.id, paths, firsts)

    in_dev = np.isin(data["paths"], [str(p) for p in dev])
    encodings = np.where(in_dev[:, None], data["encodings"], np.nan)
    names, people = np.unique([Path(p).parent.name for p in data["paths"]], return_inverse=True)
    normalize = spec.distance == "cosine"
    every = all_pairs(encodings, people, normalize)
    listed = listed_pairs(pairs_file, args.root, paths, encodings, people, normalize)
    threshold = threshold_at_fmr(every, args.fmr)
    rng = np.random.default_rng(0)
    figures = np.where(in_dev[:, None], data["figures"], np.nan)
    results = {}
    for limit in tqdm(LIMITS, desc="curves", unit="limit"):
        every_curve = curve(limit, figures, every, threshold, rng)
        results[limit.name] = {
            "figure": limit.figure,
            "before": BEFORE.get(limit.name),
            "in_use": limit.in_use if math.isfinite(limit.in_use) else None,
            "proposed": propose(every_curve),
            "all": every_curve,
            "listed": curve(limit, figures, listed, threshold, rng),
        }
    probes = sweep_probes(paths, encodings, people, args.probes)
    degraded = sweep(args, spec.id, probes)
    per_probe = sweep_rows(degraded, [str(p) for p in paths], encodings, people, threshold, normalize)
    degradations, bins = sweep_errors(degraded, per_probe), sweep_bins(degraded, per_probe)
    summary = {
        "model": spec.id,
        "pairs_file": pairs_file.name,
        "fmr": args.fmr,
        "threshold": threshold,
        "images": int(in_dev.sum()),
        "images_without_face": int(np.isnan(figures[in_dev, 0]).sum()),
        "people": int(len(np.unique(people[in_dev]))),
        "all_pairs": {"genuine": int(every.same.sum()), "impostor": int((~every.same).sum())},
        "listed_pairs": {"genuine": int(listed.same.sum()), "impostor": int((~listed.same).sum())},
        "measurable": "FNMR drop from the no-discard FNMR > 2 standard errors (bootstrap over people, all pairs)",
        "image_budget": IMAGE_BUDGET,
        "fte_first_photos": fte(data, firsts, QualityThresholds()),
        "degraded_probes": {"probes": len(probes), "runs": degradations, "bins": bins},
        "limits": results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"edc-{spec.name}.json").write_text(json.dumps(summary, indent=1) + "\n")
    plot(results, f"{spec.id} on LFW {pairs_file.name}: error versus discard", args.out / f"edc-{spec.name}.png")
    plot_sweep(
        bins,
        degradations[0]["fnmr"],
        f"{spec.id}: {len(probes)} DevTrain probes degraded, against "
        f"all DevTrain images at the FMR {args.fmr:g} threshold",
        args.out / f"degraded-{spec.name}.png",
    )
    for row in degradations:
        print(
            f"{row['kind']:6s} {row['level']:5g}  no face {row['no_face']:.3f}  FNMR {row['fnmr']:.3f} "
            f"(rise {row['fnmr_rise']:+.3f} ± {row['fnmr_rise_se']:.3f})  FMR {row['fmr']:.5f}  median {row['median']}"
        )
    for kind, points in bins.items():
        print(kind, " ".join(f"[{p['from']:.3g}-{p['to']:.3g}] {p['fnmr']:.3f}±{p['fnmr_se']:.3f}" for p in points))
    for name, result in results.items():
        print(f"{name:20s} in use {result['in_use']!s:8s} proposed {result['proposed']}")
    print(json.dumps(summary["fte_first_photos"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
