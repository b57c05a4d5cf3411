"""Re-encoding a 10,000-person database to a new encoder from its stored face thumbnails: time and
peak memory, while a kiosk keeps working on the same file.

Run from the repository root. The first command builds the database (one detection + encoding per
LFW photo: 13 minutes for the 4,992 photos on one thread of a busy 2-core machine), re-encodes a
copy of it and writes the figures; later runs reuse the built file. docs/bench-reencode.json came
from the second command (the kiosk's baseline cut to 5 minutes: the re-encode took an hour beside the
other programs loading that machine):

    .venv/bin/python benchmarks/bench_reencode.py --model sface --threads 1 --db /tmp/reencode-10k.db \
        --json docs/bench-reencode.json
    .venv/bin/python benchmarks/bench_reencode.py --model sface --threads 1 --db /tmp/reencode-10k.db \
        --baseline-seconds 300 --json docs/bench-reencode.json

A smaller run while developing: ``--people 300`` (any ``--model`` other than ``--from-model``).

Setup: a real database file (``--db PATH`` keeps it, and a later run reuses it if it holds exactly
``--people`` people with one ``--from-model`` template each) gets Barack Obama, enrolled from
resources/demo/obama.jpg through ``faceguard.app.enrollment.enroll_photo``, and ``--people`` - 1 people
made from real photos (``--photos``, default the LFW images; cycled when there are fewer usable
photos than people; never copied): each photo is read, its one face detected, quality-checked with
the enrollment limits, thumbnailed and encoded once (``template_from_file``; photos without exactly
one usable face are skipped and counted), and the rows are bulk-inserted exactly as ``Store.enroll``
writes them (``bench_store.insert_people``, one transaction). Every measurement works on a fresh
copy of that file (``Store.backup``), so the kept file is never re-encoded itself.

Measured:

1. ``faceguard.app.reencode.reencode(store, pipeline)`` to ``--model`` (default: the kiosk's default
   model, ``KioskSettings().model``) with ``--threads`` inference threads, in this process: seconds
   (``time.perf_counter``), people/s, the process's RSS just before (``VmRSS`` of /proc/self/status,
   pipeline loaded and warmed up) and its peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``,
   read before and after, so it shows whether the re-encode raised the peak set by loading the
   model); the database file and its WAL before, during (at the end, still open) and after closing.
   The database is built in a child process so that its photos and detector do not count here.
2. The kiosk keeps working: a second process runs the real ``KioskEngine`` (``KioskEngine.open``
   with the old model, ``--threads`` threads, the demo's door and voting rules) on the same file,
   fed by the folder camera playing resources/demo (15 fps, each photo 3 s then 1 s without a face)
   through a one-slot mailbox, as in the kiosk (a slow engine drops frames; the photos keep time).
   Per frame: ``engine.process`` wall time, decisions, store errors and access-log problems. Figures
   for the re-encode's span and for a baseline span of the same length just before it (the kiosk
   runs alone for the re-encode time estimated from 20 thumbnails, or ``--baseline-seconds``, so the
   baseline may come out shorter; both spans' lengths are reported). The access events logged
   during the re-encode are counted from the file afterwards.

Frame times: p50 ``statistics.median``, p95 ``numpy.percentile`` (``bench_store.summary``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import torch
from bench_store import file_bytes, insert_people, machine, summary, timed
from tqdm import tqdm

from faceguard.app.enrollment import enroll_photo, template_from_file
from faceguard.app.kiosk.demo import DEMO_PEOPLE, demo_settings
from faceguard.app.kiosk.mailbox import LatestFrame
from faceguard.app.kiosk.session import KioskEngine
from faceguard.app.reencode import reencode
from faceguard.app.settings import KioskSettings
from faceguard.app.site_threshold import SiteThreshold
from faceguard.core.errors import FaceGuardError
from faceguard.core.paths import DEMO_PHOTOS
from faceguard.store.db import write_transaction
from faceguard.store.repository import Store
from faceguard.store.templates import NewTemplate
from faceguard.vision.align import align_face
from faceguard.vision.camera import Frame, open_source
from faceguard.vision.image_io import IMAGE_SUFFIXES, read_image
from faceguard.vision.pipeline import FacePipeline
from faceguard.vision.spec import get_model_spec
from faceguard.vision.thumbnail import decode_thumbnail

LFW = Path("/work/shared/data/lfw-dev/lfw")
BATCH = 5_000
SAMPLE_FACES = 20  # thumbnails encoded before the re-encode: warm-up and estimate of its duration
COMMAND = (
    ".venv/bin/python benchmarks/bench_reencode.py --model sface --threads 1 --db /tmp/reencode-10k.db "
    "--baseline-seconds 300 --json docs/bench-reencode.json"
)


def rss_kb() -> int:
    """The process's resident set size now, in KiB (Linux)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1])


def peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# --- setup (in a child process) ------------------------------------------------------------------


def prepare_faces(pipeline: FacePipeline, photos: list[Path], needed: int) -> tuple[list[NewTemplate], dict[str, Any]]:
    """Templates of the first ``needed`` photos with one usable face, and what was skipped and why."""
    faces: list[NewTemplate] = []
    skipped: Counter[str] = Counter()
    start = time.perf_counter()
    with tqdm(total=needed, desc="detect + thumbnail + encode photos", unit="face") as bar:
        for path in photos:
            if len(faces) == needed:
                break
            try:
                faces.append(template_from_file(pipeline, path)[0])
                bar.update()
            except FaceGuardError as error:
                skipped[type(error).__name__] += 1
    seconds = time.perf_counter() - start
    if not faces:
        raise RuntimeError("None of the photos has one usable face.")
    return faces, {
        "photos_read": len(faces) + sum(skipped.values()),
        "faces": len(faces),
        "skipped": dict(skipped),
        "seconds": seconds,
    }


def build_database(path: Path, people: int, model: str, photos_dir: Path, device: str, threads: int) -> dict[str, Any]:
    """Barack Obama (the demo's enrollment) plus ``people`` - 1 people made from real photos."""
    pipeline = FacePipeline.load(device=device, threads=threads, model=model)
    photos = sorted(p for p in photos_dir.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    faces, prepared = prepare_faces(pipeline, photos, people - 1)
    name, photo, details = DEMO_PEOPLE[0]
    start = time.perf_counter()
    with Store.open(path) as store:
        obama = enroll_photo(store, pipeline, read_image(DEMO_PHOTOS / photo), name, f"photo:{photo}", **details)
        with write_transaction(store.db):
            for first in tqdm(range(obama.id + 1, people + 1, BATCH), desc="bulk insert", unit="batch"):
                ids = range(first, min(first + BATCH, people + 1))
                insert_people(
                    store.db.conn, store.sealer(), first, [faces[(i - obama.id - 1) % len(faces)] for i in ids]
                )
    insert_s = time.perf_counter() - start
    if not is_ready(path, people, pipeline.spec.id):
        raise RuntimeError(f"The database built at {path} does not read back as {people} people of {model}.")
    return {
        "built": True,
        "photos": str(photos_dir),
        "prepared": prepared,
        "insert_s": insert_s,
        "cycled": people - 1 > len(faces),
    }


def is_ready(path: Path, people: int, model_id: str) -> bool:
    """Whether ``path`` holds ``people`` people, one template each, all of ``model_id``, Obama among
    them, and passes ``Store.check()``."""
    with Store.open(path) as store:
        counts = store.counts()
        ids, _ = store.load_encodings(model_id)
        has_obama = bool(store.people(DEMO_PEOPLE[0][0]))
        return counts["people"] == counts["templates"] == len(ids) == people and has_obama and not store.check()


def build_in_child(path: Path, args: argparse.Namespace, model_id: str) -> dict[str, Any]:
    """Reuse ``path`` if it is ready; else build it in a new process (whose memory is not measured)."""
    if path.exists():
        if is_ready(path, args.people, model_id):
            return {"built": False, "reused": str(path)}
        raise SystemExit(f"{path} exists but is not {args.people} people of {model_id}; use a new --db.")
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(
            build_database, path, args.people, args.from_model, args.photos, args.device, args.threads
        ).result()


# --- the kiosk (in a child process) --------------------------------------------------------------


def run_kiosk(path: Path, model: str, device: str, threads: int, conn: Connection) -> None:
    """The kiosk on ``path`` until anything arrives on ``conn``: a camera thread puts the demo slide
    show's frames in a one-slot mailbox, the engine takes the newest (as the kiosk's camera and
    inference threads do, so the photos change with the clock and a slow engine drops frames).
    Sends its details once ready, then every processed frame's figures."""
    pipeline = FacePipeline.load(device=device, threads=threads, model=model)
    pipeline.encode_faces(read_image(DEMO_PHOTOS / "obama2.jpg"))  # warm-up of detector and encoder
    settings = demo_settings()
    with Store.open(path) as store:
        rule = SiteThreshold.for_model(pipeline.spec, settings.max_fpir, settings.threshold)
        engine = KioskEngine.open(pipeline, store, settings.policy(), settings.door, rule)
        mailbox, stop = LatestFrame(), threading.Event()
        camera = threading.Thread(target=run_camera, args=(settings.camera, mailbox, stop))
        camera.start()
        conn.send(
            {
                "torch_threads": torch.get_num_threads(),
                "gallery": len(engine.gallery),
                "model_id": pipeline.spec.id,
                "threshold": engine.threshold,
                "camera": settings.camera,
            }
        )
        frames = []
        while not conn.poll():
            frame = mailbox.take(timeout=0.1)
            if frame is not None:
                frames.append({**process_frame(engine, frame), "dropped": mailbox.dropped})
        stop.set()
        camera.join()
    conn.send(frames)


def run_camera(spec: str, mailbox: LatestFrame, stop: threading.Event) -> None:
    source = open_source(spec)
    while not stop.is_set():
        mailbox.put(Frame.capture(source.read(), 0))
    source.close()


def process_frame(engine: KioskEngine, frame: Frame) -> dict[str, Any]:
    """One frame through the engine: its capture time, wall milliseconds, decisions and problems."""
    start = time.perf_counter()
    try:
        result = engine.process(frame)
    except FaceGuardError as error:  # the kiosk shows it and goes on with the next frame
        return {
            "time": frame.wall.timestamp(),
            "ms": (time.perf_counter() - start) * 1000,
            "decisions": [],
            "error": f"{type(error).__name__}: {error}",
        }
    decisions = [
        (d.decision.outcome.value, d.decision.person.name if d.decision.person else None) for d in result.decisions
    ]
    return {
        "time": frame.wall.timestamp(),
        "ms": (time.perf_counter() - start) * 1000,
        "decisions": decisions,
        "log_problem": result.log_problem,
        "unlogged": result.unlogged,
    }


def kiosk_figures(frames: list[dict[str, Any]], start: float, end: float) -> dict[str, Any]:
    """Frame times, decisions and problems of the frames captured in [start, end)."""
    span = [f for f in frames if start <= f["time"] < end]
    decisions = [d for f in span for d in f["decisions"]]
    return {
        "seconds": end - start,
        "frames": len(span),
        "fps": len(span) / (end - start),
        "camera_frames_dropped": span[-1]["dropped"] - span[0]["dropped"] if span else 0,
        "frame_ms": summary([f["ms"] for f in span]) if span else None,
        "frame_ms_max": max((f["ms"] for f in span), default=None),
        "decisions": len(decisions),
        "outcomes": dict(Counter(outcome for outcome, _ in decisions)),
        "granted": dict(Counter(name for outcome, name in decisions if outcome == "granted")),
        "store_errors": dict(Counter(f["error"] for f in span if "error" in f)),
        "log_problems": dict(Counter(f["log_problem"] for f in span if f.get("log_problem"))),
        "max_unlogged": max((f.get("unlogged", 0) for f in span), default=0),
    }


def logged_events(store: Store, start: float, end: float) -> dict[str, Any]:
    """Access events whose decision time lies in [start, end], by decision."""
    events = store.events(since=datetime.fromtimestamp(start, UTC), until=datetime.fromtimestamp(end, UTC))
    return {
        "events": len(events),
        "decisions": dict(Counter(e.decision for e in events)),
        "granted_obama": sum(e.person_name == DEMO_PEOPLE[0][0] and e.decision == "granted" for e in events),
    }


# --- the re-encode (in this process) -------------------------------------------------------------


def seconds_per_face(store: Store, pipeline: FacePipeline) -> float:
    """Align + encode of SAMPLE_FACES stored thumbnails one by one, as the re-encode does (also warms up)."""
    ids = [row[0] for row in store.db.execute("SELECT template_id FROM template_thumbnails LIMIT ?", [SAMPLE_FACES])]
    template = np.asarray(pipeline.spec.template, np.float32)
    start = time.perf_counter()
    for template_id in ids:
        thumbnail = store.thumbnail(template_id)
        pipeline.encode(
            align_face(decode_thumbnail(thumbnail), thumbnail.landmarks, template, pipeline.spec.input_size)[None]
        )
    return (time.perf_counter() - start) / len(ids)


def measure_reencode(store: Store, pipeline: FacePipeline) -> dict[str, Any]:
    rss_before, peak_before = rss_kb(), peak_rss_kb()
    with tqdm(desc=f"re-encoding with {pipeline.spec.id}", unit="person") as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        report, ms = timed(reencode, store, pipeline, progress)
    peak_after = peak_rss_kb()
    return {
        "seconds": ms / 1000,
        "people_per_s": report.people / (ms / 1000),
        "people": report.people,
        "reencoded": report.reencoded,
        "already_done": report.already_done,
        "failed": len(report.failed),
        "failures": [f"template {f.template_id} of #{f.person_id}: {f.reason}" for f in report.failed[:10]],
        "rss_before_mib": rss_before / 1024,
        "peak_rss_before_mib": peak_before / 1024,
        "peak_rss_after_mib": peak_after / 1024,
        "peak_increase_over_rss_before_mib": (peak_after - rss_before) / 1024,
        "rss_after_mib": rss_kb() / 1024,
        "file_bytes_at_end_still_open": file_bytes(store.path),
    }


def run(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Re-encode ``work`` in this process while the kiosk works on it in another; all figures."""
    sizes_before = file_bytes(work)
    pipeline, load_ms = timed(FacePipeline.load, device=args.device, threads=args.threads, model=args.model)
    store = Store.open(work)
    per_face = seconds_per_face(store, pipeline)
    estimate = args.people * per_face
    print(f"{pipeline.spec.id}: {per_face * 1000:.1f} ms per face -> re-encode estimated at {estimate:.0f} s")
    context = multiprocessing.get_context("spawn")
    kiosk_end, child_end = context.Pipe()
    kiosk = context.Process(target=run_kiosk, args=(work, args.from_model, args.device, args.threads, child_end))
    kiosk.start()
    child_end.close()  # the kiosk's end: a kiosk that dies makes recv() fail instead of wait forever
    kiosk_info = kiosk_end.recv()
    baseline = estimate if args.baseline_seconds is None else args.baseline_seconds
    print(f"kiosk ready ({kiosk_info['gallery']:,} templates of {kiosk_info['model_id']}); baseline {baseline:.0f} s")
    baseline_start = time.time()
    time.sleep(baseline)
    start = time.time()
    figures = measure_reencode(store, pipeline)
    end = time.time()
    kiosk_end.send("stop")
    frames = kiosk_end.recv()
    kiosk.join()
    span = end - start
    access_log = logged_events(store, start, end)
    counts = store.counts()
    store.close()
    return {
        "reencode": {
            **figures,
            "pipeline_load_ms": load_ms,
            "estimated_s": estimate,
            "counts_after": counts,
            "file_bytes_before": sizes_before,
            "file_bytes_after_close": file_bytes(work),
        },
        "kiosk": {
            **kiosk_info,
            "baseline": kiosk_figures(frames, max(baseline_start, start - span), start),
            "during_reencode": kiosk_figures(frames, start, end),
            "access_log_during_reencode": access_log,
            "unlogged_at_stop": frames[-1].get("unlogged", 0) if frames else 0,
        },
        "machine": {**machine(pipeline), "kiosk_torch_threads": kiosk_info["torch_threads"]},
    }


def report(figures: dict[str, Any]) -> None:
    """Print the headline figures."""
    r, k = figures["reencode"], figures["kiosk"]
    mb = 1e6
    print(
        f"\nre-encode {r['people']:,} people -> {r['reencoded']:,} templates of {figures['model']} "
        f"({r['failed']} failed): {r['seconds']:.1f} s, {r['people_per_s']:.1f} people/s"
    )
    print(
        f"  RSS before {r['rss_before_mib']:.0f} MiB, peak {r['peak_rss_before_mib']:.0f} -> "
        f"{r['peak_rss_after_mib']:.0f} MiB (+{r['peak_increase_over_rss_before_mib']:.0f} MiB over the RSS before)"
    )
    print(
        f"  database {r['file_bytes_before']['db'] / mb:.0f} MB -> {r['file_bytes_after_close']['db'] / mb:.0f} MB "
        f"(WAL at the end {r['file_bytes_at_end_still_open']['wal'] / mb:.0f} MB)"
    )
    for phase in ("baseline", "during_reencode"):
        p = k[phase]
        frame = p["frame_ms"] or {"p50": float("nan"), "p95": float("nan")}
        print(
            f"  kiosk {phase:15s} {p['seconds']:6.0f} s  {p['frames']:5d} frames  p50 {frame['p50']:6.1f} ms  "
            f"p95 {frame['p95']:6.1f} ms  decisions {p['decisions']} {p['outcomes']}  "
            f"errors {p['store_errors']}  log problems {p['log_problems']}"
        )
    log = k["access_log_during_reencode"]
    print(
        f"  access log during the re-encode: {log['events']} events {log['decisions']}, "
        f"{log['granted_obama']} granted to {DEMO_PEOPLE[0][0]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000, help="people in the database (one template each)")
    parser.add_argument("--from-model", default="dlib-resnet", help="the model the database was enrolled with")
    parser.add_argument("--model", default=KioskSettings().model, help="the model to re-encode to")
    parser.add_argument("--threads", type=int, default=1, help="inference CPU threads of each process")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--baseline-seconds",
        type=float,
        help="how long the kiosk runs alone before the re-encode (default: its estimated duration)",
    )
    parser.add_argument("--photos", type=Path, default=LFW, help="folder of face photos (searched recursively)")
    parser.add_argument("--db", type=Path, help="database file to build (or reuse) and keep; re-encoded on a copy")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    args = parser.parse_args()
    from_id, model_id = (get_model_spec(name).id for name in (args.from_model, args.model))
    if from_id == model_id:
        raise SystemExit(f"--model and --from-model are both {model_id}: there is nothing to re-encode.")

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-reencode-") as scratch:
        pristine = args.db or Path(scratch) / f"people-{args.people}.db"
        setup = build_in_child(pristine, args, from_id)
        with Store.open(pristine) as store:
            work = store.backup(Path(scratch) / "reencode.db")
        figures = {
            "command": COMMAND,
            "people": args.people,
            "from_model": from_id,
            "model": model_id,
            "threads": args.threads,
            "setup": setup,
            **run(work, args),
        }
    figures["machine"].update(load_average_before=load_before, load_average_after=os.getloadavg())
    report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
