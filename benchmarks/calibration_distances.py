"""Calibration data for a model: its distances on LFW View 1 DevTrain pairs, so that the admin window
can tell what a threshold means (FAR and FRR, see ``faceguard.calibration``).

Run from the repository root (about five minutes on one CPU core for the builtin model):

    .venv/bin/python benchmarks/calibration_distances.py --root /work/shared/data/lfw-dev

It encodes every image of the pairs file (1100 same-person + 1100 different-person pairs) through the
normal detect-align-encode path of ``faceguard evaluate`` (``faceguard.evaluation``: the face nearest
each image's centre) and writes ``resources/calibration/<model id>.json``: the model, the pairs file's
name, the genuine (same-person) and impostor (different-person) distances in pair-file order, rounded
to 5 decimals (``null`` where a photo showed no face), and how they were produced. Only these numbers
are stored, never an LFW image.
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

from faceguard.calibration import CALIBRATION_DIR, FORMAT
from faceguard.evaluation.encode import encode_images, pair_distances, unique_images
from faceguard.evaluation.pairs import read_pairs
from faceguard.vision.pipeline import FacePipeline
from faceguard.vision.spec import get_model_spec


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
    paths = unique_images(pairs)
    pipeline = FacePipeline.load(device="cpu", threads=args.threads, model=spec)
    encodings = dict(tqdm(encode_images(pipeline, paths), total=len(paths), desc="encoding", unit="img"))
    distances = pair_distances(pairs, encodings)
    same = np.array([pair.same for pair in pairs])
    seconds = time.perf_counter() - started

    data = {
        "format": FORMAT,
        "model_id": spec.id,
        "model_name": spec.name,
        "pairs_file": pairs_file.name,
        "genuine": _rounded(distances[same]),
        "impostor": _rounded(distances[~same]),
        "produced": {
            "by": "benchmarks/calibration_distances.py " + " ".join(sys.argv[1:]),
            "method": "faceguard.evaluation: the face nearest each image's centre, detect-align-encode on the "
                      "CPU; distance per pair in the pairs file's order",
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
    print(f"Wrote {out}: {same.sum()} genuine and {(~same).sum()} impostor distances of {spec.id} "
          f"({data['produced']['no_face_images']} images without a face) in {seconds:.0f} s.")
    return 0


def _rounded(distances: np.ndarray) -> list[float | None]:
    return [round(float(d), 5) if np.isfinite(d) else None for d in distances]


def _commit() -> str | None:
    result = subprocess.run(["git", "rev-parse", "HEAD"], check=False, capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent)
    return result.stdout.strip() or None


if __name__ == "__main__":
    sys.exit(main())
