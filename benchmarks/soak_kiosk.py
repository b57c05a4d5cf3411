"""Soak test of the unattended kiosk: the real kiosk window (offscreen is fine), its camera and
recognition workers, watchdog, face engine and an SQLite file, run for ``--minutes`` on the demo's
photos (Barack Obama enrolled, Joe Biden enrolled but deactivated, Eileen Collins unknown) as a slide
show, with faults injected on a schedule:

- the camera unplugged for 20 s every 3 minutes (its folder renamed away and back);
- the camera stuck in a read for longer than the watchdog's limit, once;
- an unexpected exception in the engine's ``process``, once;
- the engine stuck in ``process`` for longer than the watchdog's limit, once;
- the database locked for 30 s by another connection holding BEGIN IMMEDIATE;
- a full disk for 30 s (``PRAGMA max_page_count`` at the file's size on the kiosk's own connection);
- the database file renamed away for 20 s, with an engine exception meanwhile (its restart finds no file).

It reports crashes (uncaught exceptions, failures other than the injected ones and their store
errors, a kiosk not recognising at the end: must be 0), RSS when the engine is ready, when the first
fault begins (after the engine's warm-up on the first frames: growth is counted from there), each
minute and at the end, access
decisions made and written to the log (equal: none lost), restarts per worker, frames processed.
A run shorter than 10 minutes (the test's) injects each fault once, scaled to the run, with the
watchdog's limits lowered to 2 s (camera) and 3 s (recognition).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/soak_kiosk.py --minutes 20 --json docs/soak.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer

import faceguard.gui.kiosk as kiosk_module
from faceguard.app.kiosk.demo import demo_settings, enroll_demo_people
from faceguard.app.kiosk.session import KioskEngine
from faceguard.core.errors import FaceGuardError
from faceguard.core.paths import DEMO_PHOTOS
from faceguard.gui.app import application
from faceguard.gui.inference_worker import InferenceWorker
from faceguard.gui.kiosk import KioskWindow
from faceguard.vision.camera import FolderSource

INJECTED = "Injected fault: the engine failed unexpectedly"
#: A full schedule from this run length on (seconds); shorter runs inject each fault once, scaled.
FULL_SCHEDULE_FROM = 600.0
#: Seconds after the last fault is cleared for the queued events to be written.
DRAIN_LIMIT = 60.0
NO_LIMIT = 1_073_741_823


@dataclass
class Faults:
    """The faults in force, read by the patched camera and engine in their threads."""

    camera_hang: float = 0.0  # seconds the camera's next read blocks
    engine_raise: int = 0  # engine calls still to fail
    engine_hang: float = 0.0  # seconds the engine's next call blocks
    disk_full: bool = False


@dataclass
class Counts:
    lock: threading.Lock = field(default_factory=threading.Lock)
    made: int = 0
    frames: int = 0
    camera_frames: int = 0
    log_problems: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    crashes: list[str] = field(default_factory=list)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def problem_kind(text: str) -> str:
    lowered = text.lower()
    for kind in ("locked", "full", "read-only", "no facegua"):
        if kind in lowered:
            return kind
    return text[:80]


def patch(faults: Faults, counts: Counts) -> None:
    """Count and fault the camera reads, the engine calls, decisions and worker failures."""
    read, process, emit, fail = FolderSource.read, KioskEngine.process, KioskEngine._emit, InferenceWorker._fail

    def faulty_read(self: FolderSource) -> Any:
        if (hang := faults.camera_hang) > 0:
            faults.camera_hang = 0.0
            time.sleep(hang)
        counts.camera_frames += 1
        return read(self)

    def faulty_process(self: KioskEngine, frame: Any) -> Any:
        full = getattr(self, "_soak_full", False)
        if faults.disk_full != full:  # on this engine's own connection, in its thread
            pages = self.store.db.execute("PRAGMA page_count").fetchone()[0]
            self.store.db.execute(f"PRAGMA max_page_count = {pages if faults.disk_full else NO_LIMIT}")
            self._soak_full = faults.disk_full  # type: ignore[attr-defined]
        if faults.engine_raise > 0:
            faults.engine_raise -= 1
            raise RuntimeError(INJECTED)
        if (hang := faults.engine_hang) > 0:
            faults.engine_hang = 0.0
            time.sleep(hang)
        result = process(self, frame)
        with counts.lock:
            counts.frames += 1
            if result.log_problem:
                counts.log_problems[problem_kind(result.log_problem)] += 1
        return result

    def counted_emit(self: KioskEngine, *args: Any, **kwargs: Any) -> Any:
        with counts.lock:
            counts.made += 1
        return emit(self, *args, **kwargs)

    def recorded_fail(self: InferenceWorker, error: Exception) -> None:
        counts.failures[problem_kind(str(error)) if isinstance(error, FaceGuardError) else str(error)] += 1
        if not isinstance(error, FaceGuardError) and str(error) != INJECTED:
            counts.crashes.append(f"recognition failed: {error!r}")
        fail(self, error)

    FolderSource.read = faulty_read  # type: ignore[method-assign]
    KioskEngine.process = faulty_process  # type: ignore[method-assign]
    KioskEngine._emit = counted_emit  # type: ignore[method-assign]
    InferenceWorker._fail = recorded_fail  # type: ignore[method-assign]
    hook, thread_hook = sys.excepthook, threading.excepthook

    def excepthook(kind: type[BaseException], error: BaseException, trace: Any) -> None:
        counts.crashes.append(f"uncaught: {error!r}")
        hook(kind, error, trace)

    def thread_excepthook(args: Any) -> None:
        counts.crashes.append(f"uncaught in a thread: {args.exc_value!r}")
        thread_hook(args)

    sys.excepthook, threading.excepthook = excepthook, thread_excepthook


def schedule(seconds: float, camera_stall: float, engine_stall: float) -> list[tuple[float, str, float]]:
    """(start s after the engine is ready, fault, duration s), by start."""
    if seconds >= FULL_SCHEDULE_FROM:
        plan = [(t, "camera unplugged", 20.0) for t in range(60, int(seconds) - 60, 180)]
        plan += [
            (120.0, "engine exception", 0.0),
            (300.0, "database locked", 30.0),
            (480.0, "disk full", 30.0),
            (660.0, "database file missing", 20.0),
            (840.0, "camera stuck", camera_stall + 5),
            (1020.0, "engine stuck", engine_stall + 10),
        ]
    else:
        unit = seconds / 20
        plan = [
            (1 * unit, "camera unplugged", 2 * unit),
            (3.5 * unit, "camera stuck", camera_stall + 1),
            (6 * unit, "engine exception", 0.0),
            (7 * unit, "engine stuck", engine_stall + 1),
            (11 * unit, "database locked", 2.5 * unit),
            (14 * unit, "disk full", 2.5 * unit),
            (17 * unit, "database file missing", 2 * unit),
        ]
    return sorted((float(t), fault, float(d)) for t, fault, d in plan)


class Injector:
    """Starts and ends each fault of the schedule, from the GUI thread's timer."""

    def __init__(self, db: Path, camera: Path, faults: Faults) -> None:
        self.db, self.camera, self.faults = db, camera, faults
        self.lock: sqlite3.Connection | None = None

    def begin(self, fault: str, seconds: float) -> None:
        if fault == "camera unplugged":
            self.camera.rename(self.camera.with_name("unplugged"))
        elif fault == "camera stuck":
            self.faults.camera_hang = seconds
        elif fault == "engine exception":
            self.faults.engine_raise = 1
        elif fault == "engine stuck":
            self.faults.engine_hang = seconds
        elif fault == "database locked":
            self.lock = sqlite3.connect(self.db, timeout=60, isolation_level=None)
            self.lock.execute("BEGIN IMMEDIATE")
        elif fault == "disk full":
            self.faults.disk_full = True
        elif fault == "database file missing":
            self.db.rename(self.db.with_name("moved-away.db"))
            self.faults.engine_raise = 1  # its restart finds no file

    def end(self, fault: str) -> None:
        if fault == "camera unplugged":
            self.camera.with_name("unplugged").rename(self.camera)
        elif fault == "database locked" and self.lock is not None:
            self.lock.execute("COMMIT")
            self.lock.close()
        elif fault == "disk full":
            self.faults.disk_full = False
        elif fault == "database file missing":
            self.db.with_name("moved-away.db").rename(self.db)


def soak(minutes: float, threads: int) -> dict[str, Any]:
    seconds = minutes * 60
    quick = seconds < FULL_SCHEDULE_FROM
    if quick:
        kiosk_module.CAMERA_STALL, kiosk_module.INFERENCE_STALL = 2.0, 3.0
    plan = schedule(seconds, kiosk_module.CAMERA_STALL, kiosk_module.INFERENCE_STALL)
    faults, counts = Faults(), Counts()
    patch(faults, counts)
    app = application()
    with tempfile.TemporaryDirectory() as folder:
        camera, db = Path(folder) / "camera", Path(folder) / "soak.db"
        shutil.copytree(DEMO_PHOTOS, camera)
        settings = replace(demo_settings(camera), threads=threads, sound=False)
        window = KioskWindow(db, settings, prepare=enroll_demo_people)
        injector = Injector(db, camera, faults)
        figures: dict[str, Any] = {}
        state: dict[str, Any] = {"ready": None, "next": 0, "ending": [], "rss_max": 0.0, "by_minute": []}

        def on_ready() -> None:
            if state["ready"] is None:
                state["ready"], figures["rss_start_mb"] = time.monotonic(), rss_mb()

        def tick() -> None:
            if state["ready"] is None:
                return
            now = time.monotonic() - state["ready"]
            state["rss_max"] = max(state["rss_max"], rss_mb())
            if now >= 60 * len(state["by_minute"]):
                state["by_minute"].append(round(rss_mb(), 1))
            while state["next"] < len(plan) and plan[state["next"]][0] <= now:
                start, fault, duration = plan[state["next"]]
                figures.setdefault("rss_warm_mb", rss_mb())
                injector.begin(fault, duration)
                state["ending"].append((start + duration, fault))
                state["next"] += 1
            for item in [item for item in state["ending"] if item[0] <= now]:
                injector.end(item[1])
                state["ending"].remove(item)
            if now >= seconds and not state["ending"]:
                finish(now)

        def finish(now: float) -> None:
            if "drain_started" not in state:
                state["drain_started"], state["frames_then"] = now, counts.frames
            waited = now - state["drain_started"]
            settled = not window.pending and counts.frames > state["frames_then"]
            if settled or waited > DRAIN_LIMIT:
                figures["measured_s"] = round(now, 1)
                figures["rss_end_mb"] = rss_mb()
                running = window.camera.is_running() and window.inference.is_running()
                figures["working_at_end"] = running and counts.frames > state["frames_then"]
                figures["unwritten_at_end"] = len(window.pending)
                figures["dropped"] = window.pending.dropped
                figures["restarts"] = dict(window.watchdog.restarts)
                timer.stop()
                window.close()

        window.inference.ready.connect(on_ready)  # the first engine's start: later ones are restarts
        timer = QTimer(interval=250)
        timer.timeout.connect(tick)
        window.show()
        window.start()
        timer.start()
        app.exec()
        with sqlite3.connect(db) as connection:
            logged = connection.execute("SELECT COUNT(*) FROM access_events").fetchone()[0]
    if not figures.get("working_at_end"):
        counts.crashes.append("the kiosk was not recognising at the end")
    return {
        "minutes": minutes,
        "threads": threads,
        "measured_s": figures.get("measured_s"),
        "crashes": len(counts.crashes),
        "crash_details": counts.crashes,
        "rss_mb": {
            "engine_ready": round(figures["rss_start_mb"], 1),
            "start": round(figures["rss_warm_mb"], 1),
            "end": round(figures["rss_end_mb"], 1),
            "max": round(state["rss_max"], 1),
            "growth": round(figures["rss_end_mb"] - figures["rss_warm_mb"], 1),
            "by_minute": state["by_minute"],
        },
        "decisions_made": counts.made,
        "decisions_logged": logged,
        "events_dropped_unwritten": figures["dropped"],
        "events_unwritten_at_end": figures["unwritten_at_end"],
        "restarts": figures["restarts"],
        "frames_processed": counts.frames,
        "camera_frames": counts.camera_frames,
        "frames_with_log_problem": dict(counts.log_problems),
        "recognition_failures": dict(counts.failures),
        "watchdog_limits_s": {"camera": kiosk_module.CAMERA_STALL, "recognition": kiosk_module.INFERENCE_STALL},
        "faults": [{"at_s": round(t, 1), "fault": fault, "seconds": round(d, 1)} for t, fault, d in plan],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--threads", type=int, default=1, help="inference CPU threads (the kiosk's default is 1)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = soak(args.minutes, args.threads)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    sys.exit(1 if figures["crashes"] else 0)


if __name__ == "__main__":
    main()
