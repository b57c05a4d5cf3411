"""Time of the passive liveness score of one face: MiniFASNetV2 and V1SE fused, on the CPU, one thread.

Run from the repository root (a few seconds):

    .venv/bin/python benchmarks/bench_passive_liveness.py --models ../shared/models/minifasnet --json OUT

The face is the one RetinaFace finds in tests/data/obama.jpg. Each run is one
``PassiveLiveness.score(image, face)``: both crops (grown box, resize to 80x80, BGR), both forward
passes and the softmax average; detection is not included. After ``--warmup`` untimed runs,
``--runs`` runs are timed with ``time.perf_counter``; the median is ``statistics.median``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from faceguard.vision.detector import RetinaFaceDetector
from faceguard.vision.image_io import read_image
from faceguard.vision.passive_liveness import PassiveLiveness

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODELS = ROOT.parent / "shared" / "models" / "minifasnet"
PHOTO = ROOT / "tests" / "data" / "obama.jpg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=DEFAULT_MODELS, help="folder holding the two model files")
    parser.add_argument("--runs", type=int, default=50, help="timed runs (default 50)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed runs first (default 10)")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    args = parser.parse_args()

    torch.set_num_threads(1)
    liveness = PassiveLiveness.load(args.models, device="cpu")
    image = read_image(PHOTO)
    face = RetinaFaceDetector.load("cpu").detect(image)[0]
    for _ in range(args.warmup):
        liveness.score(image, face)
    times_ms = []
    for _ in range(args.runs):
        start = time.perf_counter()
        live = liveness.score(image, face)
        times_ms.append((time.perf_counter() - start) * 1000)

    result = {
        "what": "PassiveLiveness.score of one face (MiniFASNetV2 2.7x + MiniFASNetV1SE 4.0x, fused), CPU, 1 thread",
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "photo": PHOTO.name,
        "live_score": live,
        "runs": args.runs,
        "median_ms": statistics.median(times_ms),
        "p95_ms": float(np.percentile(times_ms, 95)),
        "min_ms": min(times_ms),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "load_average_1min": os.getloadavg()[0],
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
