"""Kiosk speed on this machine: frames per second, decision latency and GUI responsiveness.

Runs the real kiosk window (offscreen is fine) on the demo: the bundled photos as a slide show
camera (15 fps unless --camera-fps; each photo 3 s, then 1 s of empty picture) and a fresh demo
database. Measures

- camera fps: frames painted by the GUI; inference fps: frames the engine processed; dropped frames;
- engine time per processed frame (detect / encode / total);
- decision latency: a photo's first camera frame (its capture time) → the GRANTED / DENIED banner;
- GUI event-loop latency: how late a 10 ms timer fires while inference runs (p50 / p95 / max).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_kiosk.py --seconds 60 --json docs/bench-kiosk.json
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_kiosk.py --seconds 60 --threads 2 \
        --json docs/bench-kiosk-2-threads.json
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_kiosk.py --seconds 60 --camera-fps 60 \
        --json docs/bench-kiosk-60fps.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QElapsedTimer, QTimer

from faceguard.app.kiosk.banner import Banner, Screen
from faceguard.app.kiosk.demo import demo_settings, enroll_demo_people
from faceguard.app.kiosk.results import FrameResult
from faceguard.gui.app import application
from faceguard.gui.kiosk import KioskWindow
from faceguard.vision.camera import Frame

PROBE_MS = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=1, help="inference CPU threads (the kiosk's default is 1)")
    parser.add_argument(
        "--camera-fps",
        type=float,
        default=15.0,
        help="frames per second the slide-show camera delivers (raise it to load the engine fully)",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    app = application()
    with tempfile.TemporaryDirectory() as folder:
        settings = replace(demo_settings(), threads=args.threads, sound=False)
        window = KioskWindow(Path(folder) / "demo.db", settings, demo=True, prepare=enroll_demo_people)
        window.camera.fps = args.camera_fps
        figures = measure(app, window, args.seconds)
    figures["threads"], figures["camera_fps_asked"] = args.threads, args.camera_fps
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def measure(app, window: KioskWindow, seconds: float) -> dict:
    frames: list[float] = []
    appearances: list[float] = []  # capture time of each photo's first frame
    results: list[FrameResult] = []
    decisions: list[tuple[float, Banner]] = []
    lateness: list[float] = []
    ready: list[float] = []
    previous_empty = [True]

    def on_frame(frame: Frame) -> None:
        frames.append(time.time())
        empty = bool(frame.image.max() == frame.image.min())
        if previous_empty[0] and not empty:
            appearances.append(frame.wall.timestamp())
        previous_empty[0] = empty

    def on_banner(banner: Banner) -> None:
        if banner.screen in (Screen.GRANTED, Screen.DENIED):
            decisions.append((time.time(), banner))

    clock = QElapsedTimer()
    probe = QTimer(interval=PROBE_MS)

    def on_probe() -> None:
        if ready:
            lateness.append(clock.nsecsElapsed() / 1e6 - PROBE_MS)
        clock.restart()

    window.camera.frame.connect(on_frame)
    window.inference.result.connect(results.append)
    window.inference.ready.connect(lambda: ready.append(time.time()))
    window.banner_changed.connect(on_banner)
    probe.timeout.connect(on_probe)
    window.show()
    start = time.time()
    window.start()
    clock.start()
    probe.start()
    QTimer.singleShot(int(seconds * 1000), window.close)
    app.exec()
    probe.stop()
    return summarise(start, ready, frames, appearances, results, decisions, lateness, window.mailbox.dropped)


def summarise(start, ready, frames, appearances, results, decisions, lateness, dropped) -> dict:
    began = ready[0]
    span = frames[-1] - began
    latencies = []
    for shown, _ in decisions:
        earlier = [t for t in appearances if t <= shown]
        if earlier:
            latencies.append((shown - earlier[-1]) * 1e3)
    timings = {key: [r.timings[key] for r in results] for key in ("detect", "encode", "total")}
    encoded = [t for t in timings["encode"] if t > 0.5]
    return {
        "engine_start_s": round(began - start, 2),
        "measured_s": round(span, 1),
        "camera_fps": round(sum(t >= began for t in frames) / span, 1),
        "inference_fps": round(len(results) / span, 1),
        "frames_dropped_for_newer": dropped,
        "engine_ms_p50": {key: round(float(np.median(values)), 1) for key, values in timings.items()},
        "encode_ms_p50_when_encoding": round(float(np.median(encoded)), 1) if encoded else None,
        "frames_encoding": f"{len(encoded)} of {len(results)}",
        "decisions": len(decisions),
        "decision_latency_ms": percentiles(latencies),
        "decisions_shown": sorted({f"{b.title}: {b.detail}" for _, b in decisions}),
        "event_loop_lateness_ms": percentiles(lateness),
    }


def percentiles(values: list[float]) -> dict:
    if not values:
        return {}
    array = np.asarray(values)
    return {
        "p50": round(float(np.percentile(array, 50)), 1),
        "p95": round(float(np.percentile(array, 95)), 1),
        "max": round(float(array.max()), 1),
        "n": len(values),
    }


if __name__ == "__main__":
    main()
