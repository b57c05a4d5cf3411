"""Latency of the enrollment store at kiosk scale: 1:K identify, start-up load, one-shot enrollment.

Run from the repository root (about two minutes on a 2-core machine, ~0.5 GB of temporary files):

    .venv/bin/python benchmarks/bench_store.py --json docs/bench-store.json

Targets (medians):

1. ``LiveGallery.identify`` of one probe against 100k enrolled templates: <= 10 ms.
2. Start-up: ``Store.open`` + ``LiveGallery.load`` of 100k templates from the file: <= 2 s (from the
   sealed gallery snapshot as a kiosk starts; also timed without one, as the first start after an erasure).
3. One-shot enrollment from a photo, engine included (``read_image`` + ``enroll_photo``): <= 150 ms.

Setup: a real database file (in a temporary folder, or ``--db PATH`` to keep and reuse it) gets
``--templates`` people with one template each, of the pipeline's model id and dim: seeded random
unit-norm float32 encodings and one small real JPEG face thumbnail (cut from tests/data/obama2.jpg
once, bytes reused). The rows are bulk-inserted with raw SQL in one transaction through
``store.db`` (``Store.enroll`` commits and fsyncs once per person: far too slow for 100k), but they
are exactly the rows ``Store.enroll`` writes, and the change-log triggers fire as they would; the
file is then checked with ``Store.check()`` and read back with ``Store.person()``.

Timings use ``time.perf_counter``; medians are ``statistics.median``, p95 ``numpy.percentile``.
The OS page cache is warm (the file was just written); "cold" here means a new connection (and, in
a second measurement, a new Python process) for every load. numpy's BLAS runs on one thread, as in
the kiosk (``FacePipeline.load`` sets that).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from faceguard.app.enrollment import enroll_photo, prepare_template
from faceguard.matching.gallery import Gallery
from faceguard.store.change_log import CHANGE_LOG_RETENTION
from faceguard.store.db import write_transaction
from faceguard.store.live_gallery import LiveGallery
from faceguard.store.repository import Store
from faceguard.store.sealing import Sealer, template_row, thumbnail_row
from faceguard.store.templates import NewTemplate
from faceguard.store.timestamps import now, to_text
from faceguard.vision.image_io import read_image
from faceguard.vision.pipeline import FacePipeline
from faceguard.vision.thumbnail import Thumbnail, face_thumbnail

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT / "tests" / "data"
ENROLL_PHOTOS = ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "collins.png")
PROBE_PHOTO = "obama2.jpg"
TARGETS_MS = {"identify_p50": 10.0, "startup_load_p50": 2000.0, "enroll_photo_p50": 150.0}
BATCH = 5_000
COMMAND = ".venv/bin/python benchmarks/bench_store.py --json docs/bench-store.json"

# A new process: imports, then Store.open + LiveGallery.load, as a kiosk starting up.
FRESH_PROCESS_LOAD = """
import json, sys, time
start = time.perf_counter()
from faceguard.store.live_gallery import LiveGallery
from faceguard.store.repository import Store
imported = time.perf_counter()
store = Store.open(sys.argv[1])
live = LiveGallery.load(store, sys.argv[2], int(sys.argv[3]))
loaded = time.perf_counter()
store.close()
print(json.dumps({"import_ms": (imported - start) * 1000, "open_load_ms": (loaded - imported) * 1000,
                  "templates": len(live)}))
"""


def summary(samples: list[float]) -> dict[str, float]:
    """Median, p95, min and count of millisecond samples."""
    return {
        "p50": statistics.median(samples),
        "p95": float(np.percentile(samples, 95)),
        "min": min(samples),
        "n": len(samples),
    }


def label(count: int) -> str:
    """100000 -> "100k", 1000000 -> "1M"."""
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    return f"{count // 1000}k" if count % 1000 == 0 else str(count)


def timed(work: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """(result, milliseconds) of one call of ``work(*args, **kwargs)``."""
    start = time.perf_counter()
    result = work(*args, **kwargs)
    return result, (time.perf_counter() - start) * 1000


def file_bytes(path: Path) -> dict[str, int]:
    """Sizes of the database file and its WAL (0 when absent)."""
    sizes = {"db": path.stat().st_size}
    wal = path.with_name(path.name + "-wal")
    sizes["wal"] = wal.stat().st_size if wal.exists() else 0
    return sizes


# --- setup ---------------------------------------------------------------------------------------


def insert_people(conn: sqlite3.Connection, sealer: Sealer, first_id: int, templates: Sequence[NewTemplate]) -> None:
    """INSERT the rows ``Store.enroll`` writes for people ``first_id``, ``first_id + 1``, … with one
    template each (``templates``, in order), in the caller's transaction: people (name "Person
    <7-digit id>", no badge/group/validity/notes, active, a unique pseudonym ``P-<16 hex>``, created =
    updated), templates (id = the person's id, model_id, little-endian float32 encoding sealed with the
    database's key, quality JSON, source, created) and template_thumbnails (sealed JPEG, landmarks JSON
    rounded to 2 decimals). The templates_added trigger fills the change log as usual. Template ids
    follow person ids, so every person already in the file must have exactly one template too."""
    ids = range(first_id, first_id + len(templates))
    stamp = to_text(now())
    conn.executemany(
        "INSERT INTO people (id, name, badge, group_name, active, valid_from, valid_until, notes,"
        " pseudonym, created, updated) VALUES (?, ?, NULL, NULL, 1, NULL, NULL, NULL, ?, ?, ?)",
        ((i, f"Person {i:07d}", f"P-{secrets.token_hex(8)}", stamp, stamp) for i in ids),
    )
    conn.executemany(
        "INSERT INTO templates (id, person_id, model_id, encoding, quality, source, created)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            (
                i,
                i,
                t.model_id,
                sealer.seal(np.asarray(t.encoding, "<f4").tobytes(), template_row(i, i)),
                json.dumps(t.quality),
                t.source,
                stamp,
            )
            for i, t in zip(ids, templates)
        ),
    )
    conn.executemany(
        "INSERT INTO template_thumbnails (template_id, jpeg, landmarks) VALUES (?, ?, ?)",
        (
            (
                i,
                sealer.seal(t.thumbnail.jpeg, thumbnail_row(i)),
                json.dumps(np.round(t.thumbnail.landmarks, 2).tolist()),
            )
            for i, t in zip(ids, templates)
        ),
    )


def populate(path: Path, count: int, model_id: str, dim: int, sample: dict[str, Any], seed: int) -> dict[str, Any]:
    """Give the database at ``path`` ``count`` people with one random template each, in one transaction
    (raw SQL through ``store.db``, one commit instead of ``count`` fsynced ones: see ``insert_people``)."""
    rng = np.random.default_rng(seed)
    thumbnail = Thumbnail(sample["jpeg"], sample["landmarks"])
    start = time.perf_counter()
    with Store.open(path) as store:
        if store.counts()["people"]:
            raise SystemExit(f"{path} already has people but not {count} templates of {model_id}; use a new --db.")
        with write_transaction(store.db), tqdm(total=count, desc=f"bulk insert {count:,}", unit="person") as bar:
            for first in range(1, count + 1, BATCH):
                ids = range(first, min(first + BATCH, count + 1))
                encodings = rng.standard_normal((len(ids), dim), dtype=np.float32)
                encodings /= np.linalg.norm(encodings, axis=1, keepdims=True)
                insert_people(
                    store.db.conn,
                    store.sealer(),
                    first,
                    [
                        NewTemplate(model_id, row, thumbnail, sample["quality"], f"bench:person-{i}")
                        for i, row in zip(ids, encodings)
                    ],
                )
                bar.update(len(ids))
    insert_s = time.perf_counter() - start
    with Store.open(path) as store:
        problems, check_ms = timed(store.check)
        if problems:
            raise SystemExit(f"Store.check() found problems in the bulk-inserted file: {problems}")
        person, person_ms = timed(store.person, count)
        if person.name != f"Person {count:07d}" or person.templates != 1 or not person.active:
            raise SystemExit(f"Store.person({count}) read back {person}")
        template = store.templates(count)[0]
        if template.model_id != model_id or template.encoding.shape != (dim,):
            raise SystemExit(f"Store.templates({count}) read back {template}")
        changes = store.db.execute("SELECT count(*) FROM changes").fetchone()[0]
    return {
        "bulk_insert_s": insert_s,
        "check_ms": check_ms,
        "check": "Store.check() == []",
        "person_read_ms": person_ms,
        "change_log_rows": changes,
    }


def ensure_database(
    path: Path, count: int, model_id: str, dim: int, sample: dict[str, Any], seed: int
) -> dict[str, Any]:
    """Reuse ``path`` if it already holds exactly ``count`` templates of ``model_id``, else fill it."""
    if path.exists():
        with Store.open(path) as store:
            ids, _ = store.load_encodings(model_id)
        if len(ids) == count:
            return {"reused": True}
    return {"reused": False, **populate(path, count, model_id, dim, sample, seed)}


# --- measurements --------------------------------------------------------------------------------


def measure_identify(
    live: LiveGallery, probes: dict[str, np.ndarray], threshold: float, repeats: int
) -> dict[str, Any]:
    """Median/p95 of ``live.identify`` of one probe, per probe kind, after a few untimed calls."""
    figures: dict[str, Any] = {"templates": len(live), "threshold": threshold}
    for kind, probe in probes.items():
        for _ in range(5):
            live.identify(probe, threshold)
        samples = []
        for _ in range(repeats):
            matches, ms = timed(live.identify, probe, threshold)
            samples.append(ms)
        match = matches[0]
        figures[kind] = {**summary(samples), "distance": match.distance, "accepted": match.accepted}
    return figures


def measure_load(path: Path, model_id: str, dim: int, repeats: int) -> dict[str, Any]:
    """``Store.open`` + ``LiveGallery.load`` on a new connection each time; then the same with
    Python's cyclic GC off, and LiveGallery._reload's steps one by one (GC off, so that collections
    triggered by the 100k row tuples and status objects do not land in whichever step runs then)."""

    def open_and_load() -> tuple[float, float, int]:
        start = time.perf_counter()
        store = Store.open(path)
        opened = time.perf_counter()
        live = LiveGallery.load(store, model_id, dim)
        loaded = time.perf_counter()
        store.close()
        return (opened - start) * 1000, (loaded - opened) * 1000, len(live)

    def build_gallery(ids: np.ndarray, encodings: np.ndarray) -> Gallery:
        gallery = Gallery(model_id, dim)
        gallery.extend(ids.tolist(), encodings, model_id)
        return gallery

    def without_snapshot() -> tuple[float, float, int]:
        with sqlite3.connect(path) as conn:
            conn.execute("DELETE FROM gallery_snapshots")
        return open_and_load()

    first_starts = [without_snapshot() for _ in range(repeats)]  # each ends by saving the snapshot
    runs = [open_and_load() for _ in range(repeats)]
    gc.disable()  # the kiosk process also holds torch's objects, so each full collection is costly
    try:
        no_gc = [open_and_load() for _ in range(repeats)]
        steps: dict[str, list[float]] = {}
        for _ in range(repeats):
            with Store.open(path) as store:
                snapshot, ms = timed(store.gallery_snapshot, model_id, dim)
                steps.setdefault("gallery_snapshot", []).append(ms)
                _, ms = timed(store.changes_after, snapshot.seq)
                steps.setdefault("changes_after", []).append(ms)
                _, ms = timed(store.load_encodings, model_id)
                steps.setdefault("load_encodings_row_by_row", []).append(ms)
                _, ms = timed(build_gallery, snapshot.person_ids, snapshot.encodings)
                steps.setdefault("gallery_extend", []).append(ms)
                _, ms = timed(store.status_rows)
                steps.setdefault("status_rows", []).append(ms)
                cutoff = (now() - CHANGE_LOG_RETENTION).strftime("%Y-%m-%dT%H:%M:%S")  # as Store.open prunes
                _, ms = timed(store.db.execute, "SELECT max(seq) FROM changes WHERE time < ?", [cutoff])
                steps.setdefault("change_log_prune_query_in_open", []).append(ms)
    finally:
        gc.enable()
    totals = [o + load for o, load, _ in runs]
    no_gc_totals = [o + load for o, load, _ in no_gc]
    steps_p50 = {step: statistics.median(samples) for step, samples in steps.items()}
    in_load = ("gallery_snapshot", "changes_after", "gallery_extend", "status_rows")
    steps_p50["rest_of_load"] = statistics.median(load for _, load, _ in no_gc) - sum(steps_p50[s] for s in in_load)
    return {
        "templates": runs[-1][2],
        "open_plus_load": summary(totals),
        "open_plus_load_without_snapshot": summary([o + load for o, load, _ in first_starts]),
        "snapshot_note": "open_plus_load starts from the sealed gallery snapshot (one decryption), as a kiosk "
        "does; open_plus_load_without_snapshot is a first start, or the first after a template was deleted: "
        "every template opened one by one, then the snapshot sealed and saved",
        "store_open": summary([o for o, _, _ in runs]),
        "live_gallery_load": summary([load for _, load, _ in runs]),
        "open_plus_load_gc_disabled": summary(no_gc_totals),
        "cyclic_gc_cost_p50": statistics.median(totals) - statistics.median(no_gc_totals),
        "steps_gc_disabled_p50_ms": steps_p50,
        "steps_note": "LiveGallery._reload's steps timed one by one on fresh connections with the GC off; "
        "rest_of_load = live_gallery_load p50 (GC off) - the sum of the snapshot's steps: the status dict; "
        "load_encodings_row_by_row is the per-template path taken without a snapshot; "
        "change_log_prune_query_in_open is part of store_open",
        "file_bytes": file_bytes(path),
    }


def measure_fresh_process(path: Path, model_id: str, dim: int, repeats: int) -> dict[str, Any]:
    """The same load in a new Python process each time (imports timed apart)."""
    runs = []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    for _ in range(repeats):
        output = subprocess.run(
            [sys.executable, "-c", FRESH_PROCESS_LOAD, str(path), model_id, str(dim)],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout
        runs.append(json.loads(output.strip().splitlines()[-1]))
    return {
        "open_plus_load": summary([run["open_load_ms"] for run in runs]),
        "imports": summary([run["import_ms"] for run in runs]),
        "templates": runs[-1]["templates"],
    }


def measure_enrollment(pipeline: FacePipeline, path: Path, count: int) -> dict[str, Any]:
    """``read_image`` + ``enroll_photo`` into a new database file, cycling over the test photos.

    The pipeline is already loaded and warmed up on every photo. ``store.enroll`` is wrapped on this
    Store instance to time the database write inside ``enroll_photo``; engine = the rest of it.
    """
    for name in ENROLL_PHOTOS:
        prepare_template(pipeline, read_image(PHOTOS / name), f"photo:{name}")
    store = Store.open(path)
    writes: list[float] = []
    real_enroll = store.enroll

    def enroll_timed(*args: Any, **kwargs: Any) -> Any:
        person, ms = timed(real_enroll, *args, **kwargs)
        writes.append(ms)
        return person

    store.enroll = enroll_timed  # type: ignore[method-assign]
    decode, enroll, total = [], [], []
    for k in range(count):
        name = ENROLL_PHOTOS[k % len(ENROLL_PHOTOS)]
        start = time.perf_counter()
        image = read_image(PHOTOS / name)
        read = time.perf_counter()
        person = enroll_photo(store, pipeline, image, f"{Path(name).stem} {k}", f"photo:{name}")
        done = time.perf_counter()
        decode.append((read - start) * 1000)
        enroll.append((done - read) * 1000)
        total.append((done - start) * 1000)
        assert person.templates == 1
    pragmas = {p: store.db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("journal_mode", "synchronous")}
    counts = store.counts()
    store.close()
    engine = [e - w for e, w in zip(enroll, writes)]
    return {
        "pipeline_preloaded": True,
        "photos": list(ENROLL_PHOTOS),
        "enrolled": counts["people"],
        "journal_mode": pragmas["journal_mode"],
        "synchronous": {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[pragmas["synchronous"]],
        "total_read_image_plus_enroll_photo": summary(total),
        "read_image": summary(decode),
        "enroll_photo": summary(enroll),
        "engine_prepare_template": summary(engine),
        "db_write_store_enroll": summary(writes),
    }


def measure_scale(
    path: Path,
    count: int,
    pipeline: FacePipeline,
    sample: dict[str, Any],
    probes: dict[str, np.ndarray],
    args: argparse.Namespace,
    fresh_process: bool,
) -> dict[str, Any]:
    spec = pipeline.spec
    setup = ensure_database(path, count, spec.id, spec.dim, sample, args.seed)
    print(f"\n{count:,} templates in {path} ({file_bytes(path)['db'] / 1e6:.0f} MB)")
    load = measure_load(path, spec.id, spec.dim, args.load_repeats)
    print(
        f"  start-up  Store.open + LiveGallery.load  p50 {load['open_plus_load']['p50']:8.1f} ms   "
        f"p95 {load['open_plus_load']['p95']:8.1f} ms   (n={load['open_plus_load']['n']})"
    )
    print(
        f"            without a snapshot (first start; then saving one) p50 "
        f"{load['open_plus_load_without_snapshot']['p50']:.1f} ms"
    )
    print(
        f"            with the GC off p50 {load['open_plus_load_gc_disabled']['p50']:.1f} ms; "
        "steps (GC off, p50 ms): " + ", ".join(f"{k} {v:.1f}" for k, v in load["steps_gc_disabled_p50_ms"].items())
    )
    if fresh_process:
        load["fresh_process"] = measure_fresh_process(path, spec.id, spec.dim, args.load_repeats)
        fresh = load["fresh_process"]
        print(
            f"  new process: open + load p50 {fresh['open_plus_load']['p50']:.1f} ms "
            f"(+ imports p50 {fresh['imports']['p50']:.1f} ms)"
        )
    with Store.open(path) as store:
        live = LiveGallery.load(store, spec.id, spec.dim)
        identify = measure_identify(live, probes, pipeline.threshold, args.repeats)
    for kind in probes:
        row = identify[kind]
        print(
            f"  identify  {kind:12s}  p50 {row['p50']:8.2f} ms   p95 {row['p95']:8.2f} ms   (n={row['n']}, "
            f"nearest distance {row['distance']:.3f})"
        )
    return {"setup": setup, "identify": identify, "startup_load": load}


# --- main ----------------------------------------------------------------------------------------


def machine(pipeline: FacePipeline) -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": str(pipeline.encoder.device),
        "sqlite_version": sqlite3.sqlite_version,
        "numpy_version": np.__version__,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--templates", type=int, default=100_000, help="people (one template each) in the main database"
    )
    parser.add_argument(
        "--also",
        type=int,
        nargs="*",
        default=[10_000],
        help="extra gallery sizes for scale (temporary databases); e.g. --also 10000 1000000",
    )
    parser.add_argument("--repeats", type=int, default=500, help="identify calls timed per probe")
    parser.add_argument("--load-repeats", type=int, default=7, help="start-up loads timed (each on a new connection)")
    parser.add_argument("--enrollments", type=int, default=50, help="one-shot enrollments timed")
    parser.add_argument(
        "--thumbnail-size",
        type=int,
        default=64,
        help="side of the stored bulk thumbnail in px (the store's own is 256, ~21 KB)",
    )
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for inference (default: all cores)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--db", type=Path, help="main database file to build (or reuse) and keep")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    args = parser.parse_args()

    load_before = os.getloadavg()
    pipeline, pipeline_ms = timed(FacePipeline.load, device=args.device, threads=args.threads)
    spec = pipeline.spec
    probe_image = read_image(PHOTOS / PROBE_PHOTO)
    encoded, report = pipeline.enroll(probe_image)
    thumbnail = face_thumbnail(probe_image, encoded.face.landmarks, size=args.thumbnail_size)
    sample = {"quality": report.as_dict(), "jpeg": thumbnail.jpeg, "landmarks": thumbnail.landmarks}
    random_probe = np.random.default_rng(args.seed + 1).standard_normal(spec.dim).astype(np.float32)
    probes = {"real_probe": encoded.encoding, "random_probe": random_probe / np.linalg.norm(random_probe)}

    with tempfile.TemporaryDirectory(prefix="bench-store-") as scratch:
        scratch = Path(scratch)
        main_db = args.db or scratch / f"store-{args.templates}.db"
        scales = {}
        for count in sorted({*args.also, args.templates}):
            path = main_db if count == args.templates else scratch / f"store-{count}.db"
            scales[count] = measure_scale(
                path, count, pipeline, sample, probes, args, fresh_process=count == args.templates
            )
        enrollment = measure_enrollment(pipeline, scratch / "enroll.db", args.enrollments)
    print(
        f"\none-shot enrollment ({enrollment['enrolled']} photos, pipeline preloaded, WAL + synchronous "
        f"{enrollment['synchronous']})"
    )
    for key in ("total_read_image_plus_enroll_photo", "read_image", "engine_prepare_template", "db_write_store_enroll"):
        row = enrollment[key]
        print(f"  {key:36s} p50 {row['p50']:8.2f} ms   p95 {row['p95']:8.2f} ms")
    load_after = os.getloadavg()

    main_scale = scales[args.templates]
    identify_p50 = main_scale["identify"]["real_probe"]["p50"]
    startup_p50 = main_scale["startup_load"]["open_plus_load"]["p50"]
    enroll_p50 = enrollment["total_read_image_plus_enroll_photo"]["p50"]
    figures = {
        "command": COMMAND,
        "templates": args.templates,
        "targets_ms": TARGETS_MS,
        "meets_targets": {
            "identify_p50": identify_p50 <= TARGETS_MS["identify_p50"],
            "startup_load_p50": startup_p50 <= TARGETS_MS["startup_load_p50"],
            "enroll_photo_p50": enroll_p50 <= TARGETS_MS["enroll_photo_p50"],
        },
        "identify_ms": {label(count): scale["identify"] for count, scale in scales.items()},
        "startup_load_ms": {label(count): scale["startup_load"] for count, scale in scales.items()},
        "enrollment_ms": enrollment,
        "setup": {
            "method": "bulk INSERT of the rows Store.enroll writes, one transaction through store.db; "
            "random unit-norm float32 encodings (seeded); verified with Store.check() and Store.person()",
            "thumbnail_jpeg_bytes": len(thumbnail.jpeg),
            "thumbnail_size_px": args.thumbnail_size,
            "pipeline_load_ms": pipeline_ms,
            "per_scale": {label(count): scale["setup"] for count, scale in scales.items()},
        },
        "machine": {**machine(pipeline), "load_average_before": load_before, "load_average_after": load_after},
    }
    print(
        f"\nidentify {args.templates:,}: p50 {identify_p50:.2f} ms (target {TARGETS_MS['identify_p50']:.0f}); "
        f"start-up p50 {startup_p50:.0f} ms (target {TARGETS_MS['startup_load_p50']:.0f}); "
        f"enrollment p50 {enroll_p50:.1f} ms (target {TARGETS_MS['enroll_photo_p50']:.0f}); "
        f"load average {load_before[0]:.2f} -> {load_after[0]:.2f}"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
