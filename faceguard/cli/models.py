"""Engine commands: demo, compare (1:1 on two photos), evaluate (LFW pairs, or 1:N on a folder of people),
bench (latency), and the models: models (list them) and export (register a trained checkpoint as a model)."""

from __future__ import annotations

import argparse
import json
import sys
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from faceguard.cli import common
from faceguard.cli.common import encode_single_face, threshold_of
from faceguard.core.errors import FaceGuardError, InvalidInputError
from faceguard.core.paths import DEMO_PHOTOS
from faceguard.matching.calibration import DEFAULT_MAX_FPIR
from faceguard.matching.gallery import Gallery, verify
from faceguard.vision.image_io import read_image


def add_engine_commands(commands: Any, engine: argparse.ArgumentParser) -> None:
    demo = commands.add_parser("demo", parents=[engine], help="enroll one person from one photo, then identify others")
    demo.add_argument("--photos", type=Path, default=DEMO_PHOTOS, help="folder of demo photos")
    demo.set_defaults(run=run_demo)

    compare = commands.add_parser("compare", parents=[engine], help="1:1: are two photos the same person?")
    compare.add_argument("photo1", type=Path)
    compare.add_argument("photo2", type=Path)
    compare.add_argument("--threshold", type=float, default=None, help="distance threshold (default: the model's)")
    compare.set_defaults(run=run_compare)

    evaluate = commands.add_parser(
        "evaluate",
        parents=[engine],
        help="verification accuracy on an LFW pairs file, or 1:N identification",
        description="--pairs: 1:1 verification on an LFW pairs file. --open-set: 1:N identification as at a door "
        "(see faceguard.evaluation.open_set): each person with 2+ photos enrolled from the first, "
        "probed with the second; people with one photo probe as strangers.",
    )
    mode = evaluate.add_mutually_exclusive_group(required=True)
    mode.add_argument("--pairs", type=Path, help="pairs file (View 1 header N, View 2 header 10 300)")
    mode.add_argument("--open-set", type=Path, metavar="DIR", help="folder of people, DIR/Name/*.jpg")
    evaluate.add_argument("--root", type=Path, help="with --pairs: folder holding Name/Name_NNNN.jpg (or lfw/ inside)")
    evaluate.add_argument("--calibrate", type=Path, help="with --pairs: pairs file whose best threshold is applied")
    evaluate.add_argument(
        "--people-from", type=Path, metavar="PAIRS", help="with --open-set: only the people this pairs file names"
    )
    evaluate.add_argument(
        "--max-fpir",
        type=float,
        default=DEFAULT_MAX_FPIR,
        help=f"with --open-set: site target for the derived threshold (default: {DEFAULT_MAX_FPIR})",
    )
    evaluate.add_argument("--json", type=Path, help="write the figures to this JSON file")
    evaluate.add_argument(
        "--plot", type=Path, help="write the ROC curve and distance histogram (--open-set: the DET curve) to this PNG"
    )
    evaluate.set_defaults(run=run_evaluate)

    bench = commands.add_parser("bench", parents=[engine], help="per-stage latency on a folder of photos")
    bench.add_argument("--images", type=Path, required=True, help="folder of photos (searched recursively)")
    bench.add_argument("--limit", type=int, default=200, help="number of photos to time")
    bench.add_argument("--json", type=Path, help="write the figures to this JSON file")
    bench.set_defaults(run=run_bench)

    models = commands.add_parser("models", help="the face encoders: builtin and exported models")
    models.set_defaults(run=run_models)

    export = commands.add_parser(
        "export",
        help="register a training checkpoint as a model the kiosk and every engine command can use",
        description="Write NAME.pt (weights) and NAME.json (spec) into the models folder ($FACEGUARD_MODELS_DIR, "
        "else the user data folder). Then: faceguard people reencode --model NAME.",
    )
    export.add_argument("checkpoint", type=Path, metavar="CHECKPOINT", help="a checkpoint written by faceguard train")
    export.add_argument("--name", required=True, help="the model's name (letters, digits, '.', '_', '-')")
    export.add_argument("--version", default="1", help="the model's version; its id is NAME@VERSION (default: 1)")
    threshold = export.add_mutually_exclusive_group()
    threshold.add_argument(
        "--threshold",
        type=float,
        help="distance threshold (default: the one the training run calibrated on its validation pairs)",
    )
    threshold.add_argument(
        "--calibrate",
        type=Path,
        metavar="PAIRS",
        help="calibrate the threshold on this LFW-format pairs file (needs --root)",
    )
    export.add_argument("--root", type=Path, help="folder holding the images of --calibrate")
    export.add_argument("--flip", action="store_true", help="average each encoding with its mirror image's")
    export.add_argument("--replace", action="store_true", help="replace an exported model of the same name")
    export.add_argument("--device", default="auto", help="for --calibrate: auto, cpu, cuda, cuda:N or mps")
    export.set_defaults(run=run_export)


def run_demo(args: argparse.Namespace) -> int:
    pipeline = common.load_pipeline(args)
    spec = pipeline.spec
    enrolled, _ = pipeline.enroll(read_image(args.photos / "obama.jpg"))
    gallery: Gallery[str] = Gallery(spec.id, spec.dim)
    gallery.add("Barack Obama", enrolled.encoding, spec.id)
    print(f"Enrolled 'Barack Obama' from one photo (obama.jpg) with model {spec.id}; threshold {spec.threshold:.3f}.")
    for name in ["obama2.jpg", "obama3.jpg", "biden.jpg", "collins.png"]:
        results = pipeline.identify(read_image(args.photos / name), gallery)
        if not results:
            print(f"{name:12s}  no face found")
        for _, match in results:
            verdict = f"ACCESS GRANTED  {match.identity}" if match.accepted else "ACCESS DENIED   unknown face"
            print(f"{name:12s}  {verdict:32s} distance {match.distance:.3f}")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    pipeline = common.load_pipeline(args)
    threshold = threshold_of(args, pipeline)
    first, second = (encode_single_face(pipeline, read_image(path)).encoding for path in (args.photo1, args.photo2))
    same, distance = verify(first, second, threshold)
    print(f"{'SAME PERSON' if same else 'DIFFERENT PEOPLE'}  distance {distance:.3f} (threshold {threshold:.3f})")
    return 0 if same else 1


def run_evaluate(args: argparse.Namespace) -> int:
    if args.open_set:
        if args.root or args.calibrate:
            raise InvalidInputError("--root and --calibrate go with --pairs, not --open-set.")
        return _run_open_set(args)
    if args.root is None:
        raise InvalidInputError("--pairs needs --root, the folder holding the pairs' images.")
    if args.people_from:
        raise InvalidInputError("--people-from goes with --open-set.")
    from faceguard.evaluation.encode import encode_images, pair_distances, unique_images
    from faceguard.evaluation.metrics import best_threshold, summarize
    from faceguard.evaluation.pairs import read_pairs

    pairs = read_pairs(args.pairs, args.root)
    calibration = read_pairs(args.calibrate, args.root) if args.calibrate else []
    pipeline = common.load_pipeline(args)
    paths = unique_images([*pairs, *calibration])
    encodings = dict(tqdm(encode_images(pipeline, paths), total=len(paths), desc="encoding", unit="img"))
    threshold = pipeline.threshold
    if calibration:
        threshold = best_threshold(pair_distances(calibration, encodings), [p.same for p in calibration])
    distances = pair_distances(pairs, encodings)
    same = np.array([p.same for p in pairs])
    report = summarize(distances, same, [p.fold for p in pairs], threshold)
    evaluated = unique_images(pairs)
    figures = {
        **report.to_json_dict(),
        "images": len(evaluated),
        "no_face": sum(encodings[path] is None for path in evaluated),
        "model": pipeline.spec.id,
        "calibrated_on": str(args.calibrate) if args.calibrate else None,
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if args.plot:
        from faceguard.evaluation.plots import plot_roc

        plot_roc(distances, same, args.plot, f"{pipeline.spec.id} on {args.pairs.name}", threshold=threshold)
    return 0


def _run_open_set(args: argparse.Namespace) -> int:
    from faceguard.evaluation import open_set
    from faceguard.evaluation.encode import encode_images
    from faceguard.evaluation.pairs import read_pairs
    from faceguard.matching.calibration import Calibration

    if not 0.0 < args.max_fpir < 1.0:
        raise InvalidInputError("--max-fpir must lie strictly between 0 and 1.")
    people = open_set.people_in(read_pairs(args.people_from, args.open_set)) if args.people_from else None
    split = open_set.split_people(args.open_set, people)
    if not split.enrol or not split.nonmated:
        raise FaceGuardError(f"{args.open_set} needs people with two or more photos and people with one.")
    pipeline = common.load_pipeline(args)
    spec = pipeline.spec
    enrolled, failures = {}, {}
    for person, encoding, reason in tqdm(
        open_set.enroll(pipeline, split.enrol), total=len(split.enrol), desc="enrolling", unit="person"
    ):
        if encoding is None:
            failures[person] = reason
        else:
            enrolled[person] = encoding
    if not enrolled:
        raise FaceGuardError("No one could be enrolled: every first photo was refused.")
    probes = [split.mated[person] for person in enrolled] + list(split.nonmated.values())
    encodings = dict(tqdm(encode_images(pipeline, probes), total=len(probes), desc="probing", unit="img"))
    searches = open_set.search(
        enrolled,
        {person: encodings[split.mated[person]] for person in enrolled},
        [encodings[path] for path in split.nonmated.values()],
        spec.id,
    )
    figures = {
        "model": spec.id,
        "dataset": str(args.open_set),
        "people_from": str(args.people_from) if args.people_from else None,
        **open_set.report(
            searches, len(split.enrol), failures, Calibration.load(spec.id), args.max_fpir, spec.threshold
        ),
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if args.plot:
        from faceguard.evaluation.plots import plot_det

        site = figures["site_threshold"]["threshold"]
        marks = {
            "model's 1:1 threshold": spec.threshold,
            **({f"site threshold (FPIR ≤ {args.max_fpir:g})": site} if site is not None else {}),
        }
        source = args.people_from.name if args.people_from else args.open_set.name
        plot_det(*searches.scores(), args.plot, f"{spec.id}: 1:N on {source}, {len(enrolled)} enrolled", marks)
    return 0


def run_bench(args: argparse.Namespace) -> int:
    import torch

    from faceguard.app.bench import find_images
    from faceguard.app.bench import run_bench as bench_stages

    paths = find_images(args.images, args.limit)
    if not paths:
        raise FaceGuardError(f"No images found under {args.images}.")
    pipeline = common.load_pipeline(args)
    progress = tqdm(bench_stages(pipeline, paths), total=len(paths), desc="timing", unit="img")
    times = deque(progress, maxlen=1)[0]  # every step yields the same, growing StageTimes
    stages = times.summary()
    figures = {
        "stages_ms": stages,
        "end_to_end_ms_p50": stages["end_to_end"]["p50"],
        "images_per_second": 1000.0 / stages["end_to_end"]["p50"],
        "images": len(paths),
        "threads": torch.get_num_threads(),
        "device": str(pipeline.encoder.device),
    }
    for stage, row in stages.items():
        print(f"{stage:14s} p50 {row['p50']:8.2f} ms   p95 {row['p95']:8.2f} ms   (n={row['n']})")
    print(
        f"end to end: {figures['images_per_second']:.1f} images/s ({figures['threads']} threads, {figures['device']})"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


def run_models(args: argparse.Namespace) -> int:
    from faceguard.vision.spec import list_models, models_dir

    problems: list[str] = []
    specs = list_models(problems)
    common.print_table(
        ["id", "architecture", "input", "dim", "threshold", "source"],
        [
            [
                spec.id,
                spec.architecture,
                f"{spec.input_size}x{spec.input_size}",
                spec.dim,
                f"{spec.threshold:.4f}",
                "builtin" if spec.builtin else spec.weights_source,
            ]
            for spec in specs
        ],
    )
    print(f"\nExported models live in {models_dir()}.")
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    return 0


def run_export(args: argparse.Namespace) -> int:
    from faceguard.training.export import export_checkpoint

    if (args.calibrate is None) != (args.root is None):
        raise InvalidInputError("--calibrate PAIRS and --root DIR go together.")
    calibrate = (args.calibrate, args.root) if args.calibrate else None
    with tqdm(desc="calibrating", unit="img", disable=calibrate is None) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        spec = export_checkpoint(
            args.checkpoint,
            args.name,
            args.version,
            args.threshold,
            replace=args.replace,
            flip=args.flip,
            calibrate=calibrate,
            device=args.device,
            progress=progress,
        )
    common.print_fields(
        [
            ("id", spec.id),
            ("architecture", spec.architecture),
            ("input", f"{spec.input_size}x{spec.input_size}"),
            ("template", ", ".join(f"({x:.2f}, {y:.2f})" for x, y in spec.template)),
            ("dim", spec.dim),
            ("normalized", common.yes_no(spec.normalize)),
            ("flip", common.yes_no(spec.flip)),
            ("distance", spec.distance),
            ("threshold", f"{spec.threshold:.4f}"),
            ("source", spec.weights_source),
            ("weights", spec.weights_path),
            ("sha256", spec.weights_sha256),
        ]
    )
    print(
        f"\nExported {spec.id}. Use it with --model {spec.name}; give the enrolled people templates of it "
        f"with: faceguard people reencode --model {spec.name}"
    )
    return 0
