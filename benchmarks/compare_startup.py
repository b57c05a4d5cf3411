"""A kiosk's start-up (``Store.open`` + ``LiveGallery.load``) against a baseline FaceGuard, interleaved.

Each round starts one new Python process per side, alternating which goes first, so that whatever
else the shared machine does falls on both alike; the figures are the medians and their ratio. A
side is a source tree (a ``git worktree`` of any commit) and a database file that tree's
``benchmarks/bench_store.py --db PATH`` built. Used for the encryption at rest's cost (issue 14):

    git worktree add /tmp/plain d77e31e      # the last commit before face data was sealed
    (cd /tmp/plain && PYTHONPATH=. /work/main/.venv/bin/python benchmarks/bench_store.py --db /tmp/ab/plain.db ...)
    .venv/bin/python benchmarks/bench_store.py --db /tmp/ab/sealed.db ...
    .venv/bin/python benchmarks/compare_startup.py --baseline /tmp/plain /tmp/ab/plain.db \\
        --candidate . /tmp/ab/sealed.db --rounds 15 --json docs/startup-sealed-vs-plain.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
# The first template's model and size name the gallery; the load is what a kiosk does at start.
LOAD = """
import json, sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1])
model_id, = conn.execute("SELECT model_id FROM templates LIMIT 1").fetchone()
conn.close()
start = time.perf_counter()
from faceguard.store.live_gallery import LiveGallery
from faceguard.store.repository import Store
imported = time.perf_counter()
store = Store.open(sys.argv[1])
live = LiveGallery.load(store, model_id, int(sys.argv[2]))
loaded = time.perf_counter()
print(json.dumps({"load_ms": (loaded - imported) * 1000, "templates": len(live), "module": LiveGallery.__module__,
                  "file": sys.modules["faceguard"].__file__}))
"""


def load_once(tree: Path, db: Path, dim: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    done = subprocess.run(
        [sys.executable, "-c", LOAD, str(db.resolve()), str(dim)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,  # python -c puts the working folder first on sys.path
    )
    if done.returncode:
        raise SystemExit(f"The load of {db} by {tree} failed:\n{done.stderr}")
    run: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if not run["file"].startswith(str(tree.resolve())):
        raise SystemExit(f"The load ran {run['file']}, not the tree {tree}: check PYTHONPATH.")
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", nargs=2, metavar=("TREE", "DB"), type=Path, required=True)
    parser.add_argument("--candidate", nargs=2, metavar=("TREE", "DB"), type=Path, required=True)
    parser.add_argument("--dim", type=int, default=256, help="the model's encoding size")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sides = {"baseline": args.baseline, "candidate": args.candidate}
    for tree, db in sides.values():
        load_once(tree, db, args.dim)  # warm the page cache and any first-open migration
    times: dict[str, list[float]] = {name: [] for name in sides}
    counts = {}
    for round_ in tqdm(range(args.rounds), desc="rounds"):
        order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
        for name in order:
            run = load_once(*sides[name], args.dim)
            times[name].append(run["load_ms"])
            counts[name] = run["templates"]
    medians = {name: statistics.median(samples) for name, samples in times.items()}
    result = {
        "command": " ".join(["benchmarks/compare_startup.py", *sys.argv[1:]]),
        "what": "Store.open + LiveGallery.load in a new process (imports excluded), sides interleaved",
        "templates": counts,
        "p50_ms": medians,
        "samples_ms": times,
        "ratio_candidate_to_baseline": medians["candidate"] / medians["baseline"],
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "load_average": os.getloadavg()},
    }
    print(
        f"start-up p50: baseline {medians['baseline']:.0f} ms, candidate {medians['candidate']:.0f} ms, "
        f"ratio {result['ratio_candidate_to_baseline']:.2f} ({args.rounds} interleaved rounds)"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
