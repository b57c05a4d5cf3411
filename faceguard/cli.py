"""The ``faceguard`` command: enroll and manage people, identify and verify faces, read the access
log and look after the database; plus demo, compare, evaluate and bench for the engine.

Commands that only read or edit the database (people list/edit/…, events, db …) never load the neural
networks, so they start in a fraction of a second.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from faceguard.access.policy import PersonStatus, verify_claim
from faceguard.errors import FaceGuardError, ImageError, NotFoundError, QualityError, StoreError
from faceguard.matching import Gallery, Match, face_distance, verify
from faceguard.store.db import default_db_path
from faceguard.store.live_gallery import LiveGallery
from faceguard.store.migrations import SCHEMA, schema_version
from faceguard.store.repository import DECISIONS, AccessEvent, NewTemplate, Person, Store
from faceguard.vision.image_io import read_image

if TYPE_CHECKING:  # the engine (torch) loads only when a command needs it
    from faceguard.vision.pipeline import FacePipeline

DEMO_DIR = Path(__file__).resolve().parent.parent / "resources" / "demo"

EXIT_CODES = """\
exit codes:
  0    success (identify: a face was recognised; verify: access granted; compare: same person)
  1    identify: nobody recognised; verify: not granted; compare: different people;
       people remove: not confirmed; any other error
  2    bad command line, or a change the database refuses (an empty name, valid until before valid from)
  3    model weights are not installed
  4    a photo cannot be read (missing, empty, damaged, not an image)
  5    a photo is unusable: no face, several faces, too small, blurred, badly lit or turned away
  6    no such person (badge, #id or name)
  7    conflict: the badge belongs to someone else, or several people share the name
  8    database problem: not a FaceGuard database, locked, read-only, disk full, damaged, too new
  130  interrupted (Ctrl-C)
"""

PERSON_FIELDS = ("badge", "group", "valid_from", "valid_until", "notes")
#: (quality key, how it is shown) of the figures printed after an enrollment and by ``people show``.
QUALITY_FIGURES = (("face_size", "face {:.0f} px"), ("sharpness", "sharpness {:.0f}"),
                   ("brightness", "brightness {:.0f}"), ("yaw", "yaw {:.2f}"))
EVENT_COLUMNS = ("time", "door", "decision", "reason", "person_id", "name", "subject", "distance", "threshold",
                 "model_id", "latency_ms", "message")
WHEN_HELP = "WHEN: 2026-11-25 or 2026-11-25T08:00 (local time), or a span ago: 30m, 12h, 7d."
SPAN = re.compile(r"(\d+)([mhd])", re.IGNORECASE)
SPAN_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class UsageError(FaceGuardError):
    """The command cannot go ahead as typed (e.g. an erase without confirmation)."""

    exit_code = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args) or 0
    except FaceGuardError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except ValueError as error:  # bad option values reported by the engine
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="faceguard", description=__doc__, epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    engine = argparse.ArgumentParser(add_help=False)
    engine.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, cuda:N or mps")
    engine.add_argument("--threads", type=int, default=None, help="CPU threads for inference (default: all cores)")
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument("--db", type=Path, default=default_db_path(), metavar="PATH",
                          help="the database file (default: $FACEGUARD_DB, else %(default)s)")
    commands = parser.add_subparsers(dest="command", required=True)
    add_people_commands(commands, engine, database)
    add_access_commands(commands, engine, database)
    add_db_commands(commands, database)

    demo = commands.add_parser("demo", parents=[engine], help="enroll one person from one photo, then identify others")
    demo.add_argument("--photos", type=Path, default=DEMO_DIR, help="folder of demo photos")
    demo.set_defaults(run=run_demo)

    compare = commands.add_parser("compare", parents=[engine], help="1:1: are two photos the same person?")
    compare.add_argument("photo1", type=Path)
    compare.add_argument("photo2", type=Path)
    compare.add_argument("--threshold", type=float, default=None, help="distance threshold (default: the model's)")
    compare.set_defaults(run=run_compare)

    evaluate = commands.add_parser("evaluate", parents=[engine], help="verification accuracy on an LFW pairs file")
    evaluate.add_argument("--pairs", type=Path, required=True, help="pairs file (View 1 header N, View 2 header 10 300)")
    evaluate.add_argument("--root", type=Path, required=True, help="folder holding Name/Name_NNNN.jpg (or lfw/ inside)")
    evaluate.add_argument("--calibrate", type=Path, help="pairs file whose best threshold is applied to --pairs")
    evaluate.add_argument("--json", type=Path, help="write the figures to this JSON file")
    evaluate.add_argument("--plot", type=Path, help="write the ROC curve and distance histogram to this PNG")
    evaluate.set_defaults(run=run_evaluate)

    bench = commands.add_parser("bench", parents=[engine], help="per-stage latency on a folder of photos")
    bench.add_argument("--images", type=Path, required=True, help="folder of photos (searched recursively)")
    bench.add_argument("--limit", type=int, default=200, help="number of photos to time")
    bench.add_argument("--json", type=Path, help="write the figures to this JSON file")
    bench.set_defaults(run=run_bench)
    return parser


def add_person_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--badge", help="badge number (unique)")
    parser.add_argument("--group", help="group, e.g. staff or visitors")
    parser.add_argument("--valid-from", type=parse_when, metavar="WHEN", help="no access before this moment")
    parser.add_argument("--valid-until", type=parse_until, metavar="WHEN",
                        help="no access after this moment (a date alone: the end of that day)")
    parser.add_argument("--notes")


def add_people_commands(commands: Any, engine: argparse.ArgumentParser, database: argparse.ArgumentParser) -> None:
    enroll = commands.add_parser("enroll", parents=[engine, database], help="enroll a new person from one photo",
                                 epilog=WHEN_HELP)
    enroll.add_argument("name", metavar="NAME")
    enroll.add_argument("photo", type=Path, metavar="PHOTO")
    add_person_options(enroll)
    enroll.set_defaults(run=run_enroll)

    people = commands.add_parser("people", help="list, show, edit and remove enrolled people").add_subparsers(
        dest="action", required=True
    )
    listing = people.add_parser("list", parents=[database], help="everyone enrolled, by name")
    listing.add_argument("--search", help="part of a name, badge or group")
    listing.add_argument("--csv", action="store_true", help="write CSV to stdout instead of a table")
    listing.set_defaults(run=run_people_list)
    show = people.add_parser("show", parents=[database], help="one person's details and photos")
    show.add_argument("ref", metavar="REF", help="badge, #id or name")
    show.set_defaults(run=run_people_show)
    add_photo = people.add_parser("add-photo", parents=[engine, database], help="add another photo of a person")
    add_photo.add_argument("ref", metavar="REF", help="badge, #id or name")
    add_photo.add_argument("photo", type=Path, metavar="PHOTO")
    add_photo.set_defaults(run=run_people_add_photo)
    edit = people.add_parser("edit", parents=[database], help="change a person's details", epilog=WHEN_HELP)
    edit.add_argument("ref", metavar="REF", help="badge, #id or name")
    edit.add_argument("--name")
    add_person_options(edit)
    edit.set_defaults(run=run_people_edit)
    for action, active in (("deactivate", False), ("activate", True)):
        toggle = people.add_parser(action, parents=[database], help=f"{action} a person's access (keeps their photos)")
        toggle.add_argument("ref", metavar="REF", help="badge, #id or name")
        toggle.set_defaults(run=run_people_set_active, active=active)
    remove = people.add_parser("remove", parents=[database],
                               help="erase a person and their photos (the access log keeps a pseudonym)")
    remove.add_argument("ref", metavar="REF", help="badge, #id or name")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    remove.set_defaults(run=run_people_remove)
    bulk = people.add_parser("import", parents=[engine, database],
                             help="enroll everyone in a folder: photo files and per-person subfolders")
    bulk.add_argument("folder", type=Path, metavar="FOLDER")
    bulk.set_defaults(run=run_people_import)


def add_access_commands(commands: Any, engine: argparse.ArgumentParser, database: argparse.ArgumentParser) -> None:
    identify = commands.add_parser("identify", parents=[engine, database],
                                   help="1:K: who is in these photos? (logs no access event)")
    identify.add_argument("photos", nargs="+", type=Path, metavar="PHOTO")
    identify.add_argument("--threshold", type=float, default=None, help="distance threshold (default: the model's)")
    identify.set_defaults(run=run_identify)

    verify = commands.add_parser("verify", parents=[engine, database],
                                 help="1:1: is this photo the holder of the badge? (logs no access event)")
    verify.add_argument("--badge", required=True)
    verify.add_argument("photo", type=Path, metavar="PHOTO")
    verify.add_argument("--threshold", type=float, default=None, help="distance threshold (default: the model's)")
    verify.set_defaults(run=run_verify)

    events = commands.add_parser("events", parents=[database], help="the access log, newest first",
                                 epilog=WHEN_HELP)
    events.add_argument("--since", type=parse_when, metavar="WHEN")
    events.add_argument("--until", type=parse_until, metavar="WHEN", help="(a date alone: the end of that day)")
    events.add_argument("--person", metavar="REF", help="badge, #id or name")
    events.add_argument("--decision", choices=DECISIONS)
    events.add_argument("--limit", type=int, metavar="N", help="at most the N newest events")
    events.add_argument("--csv", nargs="?", const="-", metavar="FILE",
                        help="write CSV, oldest first, to FILE (default: stdout)")
    events.set_defaults(run=run_events)


def add_db_commands(commands: Any, database: argparse.ArgumentParser) -> None:
    db = commands.add_parser("db", help="back up, check or describe the database").add_subparsers(
        dest="action", required=True
    )
    backup = db.add_parser("backup", parents=[database], help="copy the database safely, even while in use")
    backup.add_argument("dest", type=Path, metavar="DEST", help="file, or folder for a time-stamped file")
    backup.set_defaults(run=run_db_backup)
    db.add_parser("check", parents=[database], help="integrity check").set_defaults(run=run_db_check)
    db.add_parser("info", parents=[database], help="path, schema version, counts, size").set_defaults(run=run_db_info)


def parse_when(text: str, end_of_day: bool = False) -> datetime:
    """A moment typed on the command line, as an aware datetime: an ISO date or date-time in local
    time, or ``30m`` / ``12h`` / ``7d`` ago. With ``end_of_day`` a date alone means its last moment."""
    text = text.strip()
    if span := SPAN.fullmatch(text):
        return datetime.now().astimezone() - timedelta(**{SPAN_UNITS[span[2].lower()]: int(span[1])})
    try:
        moment = datetime.combine(date.fromisoformat(text), (datetime.max if end_of_day else datetime.min).time())
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"'{text}' is not a date, time or span; use e.g. 2026-11-25, 2026-11-25T08:00, 30m, 12h or 7d"
            ) from None
    return moment.astimezone() if moment.tzinfo is None else moment


def parse_until(text: str) -> datetime:
    return parse_when(text, end_of_day=True)


def load_pipeline(args: argparse.Namespace) -> FacePipeline:
    from faceguard.vision.pipeline import FacePipeline

    return FacePipeline.load(device=args.device, threads=args.threads)


def open_store(args: argparse.Namespace, create: bool = False) -> Store:
    """The database named by --db; only commands that enroll may create it (a typo must not make a new file)."""
    if not create and not args.db.exists():
        raise StoreError(f"There is no FaceGuard database at {args.db}. Enroll someone first, or point --db "
                         "or $FACEGUARD_DB at the right file.")
    return Store.open(args.db)


def threshold_of(args: argparse.Namespace, pipeline: FacePipeline) -> float:
    return pipeline.threshold if args.threshold is None else args.threshold


def run_demo(args: argparse.Namespace) -> int:
    pipeline = load_pipeline(args)
    spec = pipeline.spec
    enrolled, _ = pipeline.enroll(read_image(args.photos / "obama.jpg"))
    gallery = Gallery(spec.id, spec.dim)
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
    pipeline = load_pipeline(args)
    threshold = threshold_of(args, pipeline)
    first, second = (encode_single_face(pipeline, read_image(path)) for path in (args.photo1, args.photo2))
    same, distance = verify(first, second, threshold)
    print(f"{'SAME PERSON' if same else 'DIFFERENT PEOPLE'}  distance {distance:.3f} (threshold {threshold:.3f})")
    return 0 if same else 1


def encode_single_face(pipeline: FacePipeline, image: np.ndarray) -> np.ndarray:
    """The encoding of the one person in ``image`` (NoFaceError / MultipleFacesError otherwise)."""
    return pipeline.encode_faces(image, [pipeline.single_face(image)])[0].encoding


def run_evaluate(args: argparse.Namespace) -> int:
    from faceguard.evaluation.encode import encode_images, pair_distances, unique_images
    from faceguard.evaluation.metrics import best_threshold, summarize
    from faceguard.evaluation.pairs import read_pairs

    pairs = read_pairs(args.pairs, args.root)
    calibration = read_pairs(args.calibrate, args.root) if args.calibrate else []
    pipeline = load_pipeline(args)
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


def run_bench(args: argparse.Namespace) -> int:
    import torch

    from faceguard.bench import find_images, run_bench as bench_stages

    paths = find_images(args.images, args.limit)
    if not paths:
        raise FaceGuardError(f"No images found under {args.images}.")
    pipeline = load_pipeline(args)
    times = None
    for times in tqdm(bench_stages(pipeline, paths), total=len(paths), desc="timing", unit="img"):
        pass
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
    print(f"end to end: {figures['images_per_second']:.1f} images/s ({figures['threads']} threads, {figures['device']})")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


# --- people -----------------------------------------------------------------------------------------


def run_enroll(args: argparse.Namespace) -> int:
    from faceguard.enrollment import enroll_photo

    image = read_image(args.photo)
    with open_store(args, create=True) as store:
        details = person_details(args, PERSON_FIELDS)
        person = enroll_photo(store, load_pipeline(args), image, args.name, photo_source(args.photo), **details)
        quality = store.templates(person.id)[-1].quality
    print(f"Enrolled {describe(person)} from {args.photo.name}. Quality: {quality_summary(quality)}.")
    return 0


def run_people_list(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        people = store.people(args.search)
    headers = ["id", "name", "badge", "group", "active", "valid until", "photos"]
    rows = [[p.id, p.name, p.badge, p.group, yes_no(p.active), show_time(p.valid_until), p.templates] for p in people]
    if args.csv:
        write_csv(headers, rows, "-")
    else:
        print_table(headers, rows)
    return 0


def run_people_show(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        person = store.find_person(args.ref)
        templates = store.templates(person.id)
    print_fields([
        ("id", person.id), ("name", person.name), ("badge", person.badge), ("group", person.group),
        ("active", yes_no(person.active)), ("valid from", show_time(person.valid_from)),
        ("valid until", show_time(person.valid_until)), ("notes", person.notes), ("pseudonym", person.pseudonym),
        ("created", show_time(person.created)), ("updated", show_time(person.updated)),
    ])
    print(f"\nphotos ({len(templates)}):")
    print_table(["template", "model", "source", "created", "quality"],
                [[t.id, t.model_id, t.source, show_time(t.created), quality_summary(t.quality)] for t in templates])
    return 0


def run_people_add_photo(args: argparse.Namespace) -> int:
    from faceguard.enrollment import add_photo

    with open_store(args) as store:
        person = store.find_person(args.ref)
        image = read_image(args.photo)
        template_id = add_photo(store, load_pipeline(args), person, image, photo_source(args.photo))
        quality = store.templates(person.id)[-1].quality
    print(f"Added {args.photo.name} to {describe(person)} as template {template_id}. "
          f"Quality: {quality_summary(quality)}.")
    return 0


def run_people_edit(args: argparse.Namespace) -> int:
    changes = person_details(args, ("name", *PERSON_FIELDS))
    if not changes:
        raise UsageError("Nothing to change: give at least one of --name, --badge, --group, --valid-from, "
                         "--valid-until, --notes.")
    with open_store(args) as store:
        person = store.update_person(store.find_person(args.ref).id, **changes)
    print(f"Updated {describe(person)}.")
    return 0


def run_people_set_active(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        person = store.set_active(store.find_person(args.ref).id, args.active)
    print(f"{'Activated' if person.active else 'Deactivated'} {describe(person)}.")
    return 0


def run_people_remove(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        person = store.find_person(args.ref)
        if not (args.yes or confirm(f"Erase {describe(person)} and their {person.templates} photos?")):
            print("Nothing was erased.")
            return 1
        store.remove_person(person.id)
    print(f"Erased {describe(person)} and their {person.templates} photos; "
          f"the access log keeps them as {person.pseudonym}.")
    return 0


def confirm(question: str) -> bool:
    """Ask on the terminal; without one the caller must have been told to pass --yes."""
    if not sys.stdin.isatty():
        raise UsageError(f"{question} Not asking without a terminal: pass --yes to confirm.")
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def run_people_import(args: argparse.Namespace) -> int:
    from faceguard.bench import IMAGE_SUFFIXES

    plan = import_plan(args.folder, IMAGE_SUFFIXES)
    with open_store(args, create=True) as store:
        pipeline = load_pipeline(args)
        errors: list[FaceGuardError] = []
        people = photos = 0
        with tqdm(total=sum(len(paths) for _, paths in plan), desc="importing", unit="photo") as bar:
            for name, paths in plan:
                templates = prepare_templates(pipeline, paths, args.folder, bar, errors)
                if templates:
                    enroll_whole(store, name, templates)
                    people, photos = people + 1, photos + len(templates)
    print(f"Imported {people} people ({photos} photos); {len(errors)} photos skipped.")
    return 0 if people else errors[0].exit_code


def import_plan(folder: Path, suffixes: set[str]) -> list[tuple[str, list[Path]]]:
    """(name, photos) per person: each photo directly in ``folder`` is a person named after the file,
    each subfolder a person named after the folder with all its photos (``_`` reads as a space)."""
    if not folder.is_dir():
        raise FaceGuardError(f"{folder} is not a folder.")
    plan = []
    for entry in sorted(folder.iterdir()):
        if entry.is_dir() and (photos := [path for path in sorted(entry.iterdir()) if is_photo(path, suffixes)]):
            plan.append((entry.name.replace("_", " ").strip(), photos))
        elif is_photo(entry, suffixes):
            plan.append((entry.stem.replace("_", " ").strip(), [entry]))
    if not plan:
        raise FaceGuardError(f"No photos ({', '.join(sorted(suffixes))}) found in {folder}.")
    return plan


def is_photo(path: Path, suffixes: set[str]) -> bool:
    return path.is_file() and path.suffix.lower() in suffixes and not path.name.startswith(".")


def prepare_templates(
    pipeline: FacePipeline, paths: list[Path], folder: Path, bar: tqdm, errors: list[FaceGuardError]
) -> list[NewTemplate]:
    """The templates of the usable photos; each unusable one is reported, added to ``errors`` and skipped."""
    from faceguard.enrollment import prepare_template

    templates = []
    for path in paths:
        try:
            templates.append(prepare_template(pipeline, read_image(path), photo_source(path))[0])
        except (ImageError, QualityError) as error:
            errors.append(error)
            bar.write(f"skipped {path.relative_to(folder)}: {error}", file=sys.stderr)
        bar.update()
    return templates


def enroll_whole(store: Store, name: str, templates: list[NewTemplate]) -> Person:
    """Enroll ``name`` with all ``templates``; if interrupted part-way the person is erased again, so an
    interrupted import leaves whole people only."""
    person = store.enroll(name, templates[0])
    try:
        for template in templates[1:]:
            store.add_template(person.id, template)
    except BaseException:
        store.remove_person(person.id)
        raise
    return person


def person_details(args: argparse.Namespace, fields: Iterable[str]) -> dict[str, Any]:
    """The person fields given on the command line (None = not given)."""
    return {field: value for field in fields if (value := getattr(args, field)) is not None}


def photo_source(path: Path) -> str:
    return f"photo:{path.name}"


def describe(person: Person) -> str:
    badge = f", badge {person.badge}" if person.badge else ""
    return f"{person.name} (#{person.id}{badge})"


def quality_summary(quality: dict[str, float]) -> str:
    return ", ".join(text.format(quality[key]) for key, text in QUALITY_FIGURES if key in quality)


# --- access -----------------------------------------------------------------------------------------


def run_identify(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        pipeline = load_pipeline(args)
        threshold = threshold_of(args, pipeline)
        live = LiveGallery.load(store, pipeline.spec.id, pipeline.spec.dim)
    recognised = False
    for photo in args.photos:
        encoded = pipeline.encode_faces(read_image(photo))
        if not encoded:
            print(f"{photo.name}  no face found")
            continue
        matches = live.identify(np.stack([face.encoding for face in encoded]), threshold)
        for number, match in enumerate(matches, start=1):
            label = photo.name if len(matches) == 1 else f"{photo.name} face {number}"
            verdict, known = judge_match(live, match)
            recognised |= known
            print(f"{label}  {verdict}")
    return 0 if recognised else 1


def judge_match(live: LiveGallery, match: Match) -> tuple[str, bool]:
    """One identify line for a match, and whether it is an enrolled person."""
    person = live.status_of(match.identity) if match.identity is not None else None
    if person is not None:
        decision = verify_claim(person, match.distance, match.threshold, time.time())
        return f"#{person.person_id} {person.name}  distance {match.distance:.3f}  {decision.outcome}", True
    nearest = live.status_of(match.nearest) if match.nearest is not None else None
    if nearest is None:
        return "unknown  (nobody is enrolled)", False
    return f"unknown  distance {match.distance:.3f} (nearest: #{nearest.person_id} {nearest.name})", False


def run_verify(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        person = person_with_badge(store, args.badge)
        image = read_image(args.photo)
        pipeline = load_pipeline(args)
        _, templates = store.load_encodings(pipeline.spec.id, [person.id])
    if not len(templates):
        raise FaceGuardError(f"{describe(person)} has no photo enrolled for the model {pipeline.spec.id}; re-enroll "
                             f"them: faceguard people add-photo '#{person.id}' PHOTO")
    threshold = threshold_of(args, pipeline)
    distance = float(face_distance(encode_single_face(pipeline, image), templates).min())
    decision = verify_claim(person_status(person), distance, threshold, time.time())
    print(f"{decision.message}  distance {distance:.3f} (threshold {threshold:.3f})")
    return 0 if decision.granted else 1


def person_with_badge(store: Store, badge: str) -> Person:
    badge = badge.strip()
    for person in store.people(badge):
        if person.badge == badge:
            return person
    raise NotFoundError(f"Nobody enrolled has the badge {badge}. See: faceguard people list")


def person_status(person: Person) -> PersonStatus:
    def epoch(moment: datetime | None) -> float | None:
        return None if moment is None else moment.timestamp()

    return PersonStatus(person.id, person.name, person.active, epoch(person.valid_from), epoch(person.valid_until))


def run_events(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        person_id = store.find_person(args.person).id if args.person else None
        events = store.events(args.since, args.until, person_id, args.decision, args.limit)
    if args.csv is None:
        print_table(["time", "door", "decision", "reason", "person", "distance", "message"],
                    [event_row(event) for event in events])
        return 0
    write_csv(list(EVENT_COLUMNS), [event_csv_row(event) for event in reversed(events)], args.csv)
    if args.csv != "-":
        print(f"Wrote {len(events)} events to {args.csv}.")
    return 0


def event_row(event: AccessEvent) -> list[Any]:
    person = f"#{event.person_id} {event.person_name}" if event.person_name else event.subject
    distance = None if event.distance is None else f"{event.distance:.3f}"
    return [show_time(event.time, "seconds"), event.door, event.decision, event.reason, person, distance, event.message]


def event_csv_row(event: AccessEvent) -> list[Any]:
    """The values of EVENT_COLUMNS; the time in ISO 8601 with the local UTC offset."""
    return [event.time.astimezone().isoformat(timespec="milliseconds"), event.door, event.decision, event.reason,
            event.person_id, event.person_name, event.subject, event.distance, event.threshold, event.model_id,
            event.latency_ms, event.message]


# --- database ---------------------------------------------------------------------------------------


def run_db_backup(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        print(store.backup(args.dest))
    return 0


def run_db_check(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        problems = store.check()
        counts = store.counts()
    for problem in problems:
        print(problem)
    if problems:
        raise StoreError(f"{args.db} has {len(problems)} problem(s); restore a backup or repair it.")
    print(f"ok: {counts['people']} people, {counts['templates']} photos, {counts['access_events']} access events")
    return 0


def run_db_info(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        version, counts = schema_version(store.db), store.counts()
    print_fields([
        ("path", args.db.resolve()), ("schema", f"{version}/{len(SCHEMA)}"), ("people", counts["people"]),
        ("photos", counts["templates"]), ("access events", counts["access_events"]),
        ("size", f"{args.db.stat().st_size / 1024:.1f} KiB"),
    ])
    return 0


# --- output -----------------------------------------------------------------------------------------


def write_csv(headers: list[str], rows: list[list[Any]], destination: str) -> None:
    """CSV to the file ``destination``, or to stdout for "-"."""
    if destination == "-":
        csv.writer(sys.stdout).writerows([headers, *rows])
        return
    try:
        with open(destination, "w", newline="", encoding="utf-8") as file:
            csv.writer(file).writerows([headers, *rows])
    except OSError as error:
        raise FaceGuardError(f"Cannot write {destination}: {error.strerror or error}.") from None


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    cells = [headers, *[["" if value is None else str(value) for value in row] for row in rows]]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]
    for row in cells:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())


def print_fields(fields: list[tuple[str, Any]]) -> None:
    width = max(len(label) for label, _ in fields)
    for label, value in fields:
        print(f"{label.ljust(width)}  {'' if value is None else value}".rstrip())


def show_time(moment: datetime | None, timespec: str = "minutes") -> str:
    """A stored time in the operator's local time ('' for none)."""
    return "" if moment is None else moment.astimezone().replace(tzinfo=None).isoformat(" ", timespec)


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


if __name__ == "__main__":
    sys.exit(main())
