"""Calibration data for a model: its distances on LFW View 1 DevTrain images, so that FaceGuard can
tell what a threshold means, 1:1 (FAR and FRR) and at a door that compares a face with everyone
enrolled (FMR down to ~1e-6, FPIR and FNIR; see ``faceguard.matching.calibration``).

Run from the repository root (a few minutes on one CPU core for the builtin model):

    .venv/bin/python benchmarks/calibration_distances.py --root /work/shared/data/lfw-dev

It encodes every image of the people the pairs file names (the listed 1100 same-person + 1100
different-person pairs use some of them) through the normal detect-align-encode path of ``faceguard
evaluate`` (``faceguard.evaluation``: the face nearest each image's centre) and writes
``resources/calibration/<model id>.json`` in format faceguard-calibration/2: the model, the pairs
file's name, the listed pairs' ``genuine`` and ``impostor`` distances in pair-file order; over all
those images, every same-person distance (``genuine_all``), the smallest different-person distances
(``nonmatch_tail``) and the number of different-person pairs (``nonmatch_count``); and how they were
produced. Distances are rounded to 5 decimals, ``null`` where a photo showed no face. Only these
numbers are stored, never an LFW image.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from tqdm import tqdm

from faceguard.evaluation.encode import encode_images, pair_distances, unique_images
from faceguard.evaluation.pairs import Pair, read_pairs
from faceguard.matching.calibration import CALIBRATION_DIR, FORMAT
from faceguard.matching.gallery import face_distance
from faceguard.vision.image_io import IMAGE_SUFFIXES
from faceguard.vision.pipeline import FacePipeline
from faceguard.vision.spec import get_model_spec

#: Different-person distances kept: with ~6 million pairs among DevTrain's people, the smallest 20,000
#: measure every FMR from one pair in six million up to ~0.3 %.
TAIL = 20_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="dlib-resnet", help="a builtin or exported model (default: dlib-resnet)")
    parser.add_argument("--root", type=Path, required=True, help="folder holding pairsDevTrain.txt and lfw/Name/*.jpg")
    parser.add_argument("--pairs", type=Path, help="pairs file (default: ROOT/pairsDevTrain.txt)")
    parser.add_argument("--out", type=Path, help="output JSON (default: resources/calibration/<model id>.json)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for inference (default: 1)")
    args = parser.parse_args()

    spec = get_model_spec(args.model)
    pairs_file = args.pairs or args.root / "pairsDevTrain.txt"
    out = args.out or CALIBRATION_DIR / f"{spec.id}.json"
    started = time.perf_counter()
    pairs = read_pairs(pairs_file, args.root)
    people = _people_images(pairs)
    paths = sorted({*unique_images(pairs), *(path for images in people.values() for path in images)})
    pipeline = FacePipeline.load(device="cpu", threads=args.threads, model=spec)
    encodings = dict(tqdm(encode_images(pipeline, paths), total=len(paths), desc="encoding", unit="img"))
    distances = pair_distances(pairs, encodings)
    same = np.array([pair.same for pair in pairs])
    genuine_all, nonmatch, nonmatch_count = _all_pairs(people, encodings)
    seconds = time.perf_counter() - started

    data = {
        "format": FORMAT,
        "model_id": spec.id,
        "model_name": spec.name,
        "pairs_file": pairs_file.name,
        "genuine": _rounded(distances[same]),
        "impostor": _rounded(distances[~same]),
        "genuine_all": _rounded(np.sort(genuine_all)),
        "nonmatch_tail": _rounded(np.sort(nonmatch)[:TAIL]),
        "nonmatch_count": nonmatch_count,
        "produced": {
            "by": "benchmarks/calibration_distances.py " + " ".join(sys.argv[1:]),
            "method": "faceguard.evaluation: the face nearest each image's centre, detect-align-encode on the "
            "CPU; genuine/impostor: per listed pair in the pairs file's order; genuine_all, "
            "nonmatch_tail, nonmatch_count: over every pair of images of the pairs file's people",
            "people": len(people),
            "images": len(paths),
            "no_face_images": sum(encoding is None for encoding in encodings.values()),
            "commit": _commit(),
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "seconds": round(seconds, 1),
            "threads": args.threads,
            "python": platform.python_version(),
        },
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data) + "\n", encoding="utf-8")
    print(
        f"Wrote {out}: {same.sum()} genuine and {(~same).sum()} impostor listed pairs, {genuine_all.size} "
        f"same-person and {nonmatch_count} different-person pairs of {len(people)} people for {spec.id} "
        f"({data['produced']['no_face_images']} images without a face) in {seconds:.0f} s."
    )
    return 0


def _people_images(pairs: list[Pair]) -> dict[str, list[Path]]:
    """Every image of each person the pairs name (their folder's photos), by folder name."""
    folders = {path.parent for pair in pairs for path in (pair.path1, pair.path2)}
    return {
        folder.name: sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        for folder in sorted(folders)
    }


def _all_pairs(
    people: dict[str, list[Path]], encodings: dict[Path, np.ndarray | None]
) -> tuple[np.ndarray, np.ndarray, int]:
    """(same-person distances, finite different-person distances, number of different-person pairs)
    over every pair of images; +inf where either image has no face."""
    paths = [path for images in people.values() for path in images]
    person = np.repeat(np.arange(len(people)), [len(images) for images in people.values()])
    found = np.array([encodings[path] is not None for path in paths])
    matrix = np.zeros((len(paths), len(paths)), np.float32)
    encoded = np.stack([encodings[path] for path in paths if encodings[path] is not None])
    matrix[np.ix_(found, found)] = face_distance(encoded, encoded)
    matrix[~found, :] = matrix[:, ~found] = np.inf
    first, second = np.triu_indices(len(paths), k=1)
    same = person[first] == person[second]
    distances = matrix[first, second].astype(np.float64)
    nonmatch = distances[~same]
    return distances[same], nonmatch[np.isfinite(nonmatch)], int(np.count_nonzero(~same))


def _rounded(distances: np.ndarray) -> list[float | None]:
    return [round(float(d), 5) if np.isfinite(d) else None for d in distances]


def _commit() -> str | None:
    result = subprocess.run(
        ["git", "rev-parse", "HEAD"], check=False, capture_output=True, text=True, cwd=Path(__file__).resolve().parent
    )
    return result.stdout.strip() or None


if __name__ == "__main__":
    sys.exit(main())
