"""``faceguard bench-liveness``: APCER per attack type and BPCER of the kiosk's liveness modes on synthetic
sequences built from a folder of photos (see ``faceguard.app.liveness_bench``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from faceguard.cli import common
from faceguard.core.errors import FaceGuardError, InvalidInputError

#: Where the LFW development photos sit beside a checkout (``faceguard bench-liveness`` run from its top).
DEFAULT_IMAGES = Path("../shared/data/lfw-dev/lfw")
#: Sequences of each kind written as videos with --video-dir.
VIDEOS_PER_KIND = 2


def add_liveness_commands(commands: Any) -> None:
    bench = commands.add_parser(
        "bench-liveness",
        help="APCER per attack type and BPCER of the liveness modes on synthetic attack and bona fide sequences",
        description="Builds camera sequences from a folder of photos: a still photo moved as a printed sheet "
        "(print-plane) or on a phone screen (screen-moire-glare), and a person turning their head (multi-pose: "
        "two photos of one person at different head poses, morphed), and runs each through the kiosk's "
        "liveness gate. Reports, in ISO/IEC 30107-3 terms, APCER per attack type and BPCER for the active "
        "mode, and for the passive and both modes when --models is given; and the active mode's error rates "
        "against its head-turn limit.",
    )
    bench.add_argument(
        "--images",
        type=Path,
        default=DEFAULT_IMAGES,
        metavar="DIR",
        help="folder of photos, one subfolder per person (default: %(default)s)",
    )
    bench.add_argument(
        "--models",
        type=Path,
        metavar="DIR",
        help="folder holding the site's MiniFASNetV2 and V1SE files for the passive and both modes "
        "(without it they are reported as skipped)",
    )
    bench.add_argument("--sequences", type=int, default=200, metavar="N", help="sequences of each kind (default: 200)")
    bench.add_argument("--seed", type=int, default=0, help="seed of the photos drawn, the motions and the prompts")
    bench.add_argument("--fps", type=float, default=15.0, help="frames per second of the sequences (default: 15)")
    bench.add_argument(
        "--json",
        type=Path,
        metavar="OUT",
        help="write the figures to this JSON file: per mode (active, passive, both) its apcer (attack type: rate) "
        "and bpcer, then the turn curve, the challenge and the data used",
    )
    bench.add_argument("--plot", type=Path, metavar="PNG", help="write the error rates against the turn limit")
    bench.add_argument(
        "--video-dir",
        type=Path,
        metavar="DIR",
        help=f"also write the first {VIDEOS_PER_KIND} sequences of each kind there as .mp4 videos (a kiosk camera)",
    )
    bench.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, cuda:N or mps")
    bench.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads for inference (default: the cores other programs leave free)",
    )
    bench.set_defaults(run=run_bench_liveness)


def run_bench_liveness(args: argparse.Namespace) -> int:
    from faceguard.access.liveness import LivenessMode
    from faceguard.app import liveness_bench as bench
    from faceguard.app.kiosk.liveness import DEFAULT_LIVE_THRESHOLD, PASSIVE_WINDOW
    from faceguard.app.settings import KioskSettings
    from faceguard.evaluation.liveness_sequences import FRAME_HEIGHT, FRAME_WIDTH, write_video

    if args.sequences < 1:
        raise InvalidInputError(f"--sequences must be at least 1, got {args.sequences}.")
    if not 1 <= args.fps <= 60:
        raise InvalidInputError(f"--fps must be between 1 and 60, got {args.fps:g}.")
    if not args.images.is_dir():
        raise FaceGuardError(f"The photo folder {args.images} does not exist; give one with --images.")
    passive = None
    if args.models is not None:
        from faceguard.vision.passive_liveness import PassiveLiveness

        passive = PassiveLiveness.load(args.models, device=args.device)
    if args.video_dir is not None:
        args.video_dir.mkdir(parents=True, exist_ok=True)
    config = KioskSettings().challenge()
    seconds = config.timeout + 1.0
    pipeline = common.load_pipeline(args)
    recipes, data = bench.plan(pipeline, args.images, args.sequences, args.seed)
    if not recipes:
        raise FaceGuardError(f"No face was found in the photos under {args.images}.")
    runs, videos, done = [], [], Counter[str]()
    for recipe in tqdm(recipes, desc="sequences", unit="seq"):
        presentation = recipe.build(args.fps, seconds)
        run = bench.run_presentation(pipeline, presentation, config, recipe.seed, passive)
        runs.append(run)
        done[run.kind.value] += 1
        if args.video_dir is not None and done[run.kind.value] <= VIDEOS_PER_KIND:
            name = f"{run.kind.value}-{done[run.kind.value]}-{run.move.value if run.move else 'no-face'}.mp4"
            videos.append(str(write_video(presentation, args.video_dir / name)))
    modes: dict[str, Any] = {LivenessMode.ACTIVE.value: bench.mode_report(runs, LivenessMode.ACTIVE)}
    for mode in (LivenessMode.PASSIVE, LivenessMode.BOTH):
        modes[mode.value] = (
            bench.mode_report(runs, mode)
            if passive
            else {"skipped": "no passive model: give the folder of the site's MiniFASNet files with --models"}
        )
    curve = bench.turn_curve(runs, config)
    figures = {
        **modes,  # per mode: apcer (attack type -> rate), bpcer, counts and times
        "turn_curve": curve,
        "challenge": asdict(config),
        "live_threshold": DEFAULT_LIVE_THRESHOLD,
        "passive_window": PASSIVE_WINDOW,
        "data": data
        | {
            "sequences": dict(done),
            "not_acquired": {kind: sum(run.kind.value == kind and not run.acquired for run in runs) for kind in done},
            "fps": args.fps,
            "frame_size": [FRAME_WIDTH, FRAME_HEIGHT],
            "sequence_seconds": seconds,
            "videos": videos,
        },
        "limits": bench.limits_note(),
        "targets": {"max_apcer": bench.MAX_APCER, "max_bpcer": bench.MAX_BPCER},
        "detector_device": str(pipeline.encoder.device),
        "command": _command(args),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _print_summary(modes, curve)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if args.plot:
        from faceguard.evaluation.plots import plot_turn_curve

        title = f"Active liveness on {sum(run.acquired for run in runs)} sequences from {args.images.name}"
        plot_turn_curve(curve, args.plot, title, (bench.MAX_APCER, bench.MAX_BPCER))
    return 0


def _command(args: argparse.Namespace) -> str:
    """The command line that repeats this run, every option spelt out."""
    words = ["faceguard", "bench-liveness", "--images", str(args.images)]
    words += ["--sequences", str(args.sequences), "--seed", str(args.seed), "--fps", f"{args.fps:g}"]
    for option in ("models", "json", "plot", "video_dir", "threads"):
        if getattr(args, option) is not None:
            words += [f"--{option.replace('_', '-')}", str(getattr(args, option))]
    return " ".join(words + ["--device", args.device])


def _print_summary(modes: dict[str, Any], curve: dict[str, Any]) -> None:
    for mode, report in modes.items():
        if "skipped" in report:
            print(f"{mode:8s} skipped: {report['skipped']}", file=sys.stderr)
            continue
        apcer = ", ".join(f"{kind} {_percent(rate)}" for kind, rate in report["apcer"].items())
        times = report["bona_fide_decision_seconds"]
        timing = f"; decision median {times['median']:.2f} s, p95 {times['p95']:.2f} s" if times["median"] else ""
        print(f"{mode:8s} APCER {apcer}; BPCER {_percent(report['bpcer'])}{timing}")
    for key, what in (
        ("configured", "turn limits"),
        ("with_nod", "turn limits, nods accepted"),
        ("nod_limit", "nod limits, nods accepted"),
    ):
        meeting = curve[key]["limits_meeting_targets"]
        print(f"{what} meeting the targets: {_spans(meeting) if meeting else 'none'}")


def _spans(limits: list[float], step: float = 0.01) -> str:
    """Sorted limits a ``step`` apart written as ranges: 0.05-0.12, 0.15."""
    runs: list[list[float]] = []
    for limit in limits:
        if runs and limit - runs[-1][-1] <= step * 1.5:
            runs[-1].append(limit)
        else:
            runs.append([limit])
    return ", ".join(f"{run[0]:g}-{run[-1]:g}" if len(run) > 1 else f"{run[0]:g}" for run in runs)


def _percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.1%}"
