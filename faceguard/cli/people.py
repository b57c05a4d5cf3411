"""People commands: enroll, and people list / show / add-photo / edit / (de)activate / remove / import /
export."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from faceguard.app.display import consent_text, local_time
from faceguard.app.settings import load_settings
from faceguard.app.subject_access import export_subject
from faceguard.cli import common
from faceguard.cli.common import (
    WHEN_HELP,
    describe,
    open_store,
    parse_until,
    parse_when,
    print_fields,
    print_table,
    write_csv,
    yes_no,
)
from faceguard.core.errors import FaceGuardError, ImageError, InvalidInputError, QualityError
from faceguard.store.templates import NewTemplate
from faceguard.store.timestamps import now
from faceguard.vision.image_io import IMAGE_SUFFIXES, file_name, photo_source, read_image

if TYPE_CHECKING:
    import numpy as np

    from faceguard.vision.pipeline import FacePipeline

PERSON_FIELDS = ("badge", "group", "valid_from", "valid_until", "notes")
NO_NAME = "The file or folder name holds no person's name (only _ and spaces): rename it after the person."
NO_CONSENT = "Consent not recorded: pass --consent once a person has agreed to have their face stored for door access."
LOW_QUALITY_HINT = (
    "This is below the recommended quality; --accept-low-quality enrolls it anyway (recognition may be less reliable)."
)
ACCEPT_LOW_QUALITY_HELP = (
    "enroll a usable photo below the recommended quality anyway (recognition may be less "
    "reliable); the warning is recorded with the photo"
)


QUALITY_FIGURES = (
    ("face_size", "face {:.0f} px"),
    ("sharpness", "sharpness {:.0f}"),
    ("brightness", "brightness {:.0f}"),
    ("yaw", "yaw {:.2f}"),
)


def add_person_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--badge", help="badge number (unique)")
    parser.add_argument(
        "--group",
        help="access group (one per person), e.g. staff: once groups are defined (admin window: Doors & groups), "
        "someone in no group or an undefined one is refused at every door",
    )
    parser.add_argument("--valid-from", type=parse_when, metavar="WHEN", help="no access before this moment")
    parser.add_argument(
        "--valid-until",
        type=parse_until,
        metavar="WHEN",
        help="no access after this moment (a date alone: the end of that day)",
    )
    parser.add_argument("--notes")


def add_people_commands(commands: Any, engine: argparse.ArgumentParser, database: argparse.ArgumentParser) -> None:
    enroll = commands.add_parser(
        "enroll", parents=[engine, database], help="enroll a new person from one photo", epilog=WHEN_HELP
    )
    enroll.add_argument("name", metavar="NAME")
    enroll.add_argument("photo", type=Path, metavar="PHOTO")
    add_person_options(enroll)
    enroll.add_argument(
        "--consent",
        action="store_true",
        help="the person agreed to have their face stored for door access (records when)",
    )
    enroll.add_argument("--accept-low-quality", action="store_true", help=ACCEPT_LOW_QUALITY_HELP)
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
    add_photo.add_argument("--accept-low-quality", action="store_true", help=ACCEPT_LOW_QUALITY_HELP)
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
    remove = people.add_parser(
        "remove", parents=[database], help="erase a person and their photos (the access log keeps a pseudonym)"
    )
    remove.add_argument("ref", metavar="REF", help="badge, #id or name")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    remove.set_defaults(run=run_people_remove)
    export = people.add_parser(
        "export",
        parents=[database],
        help="everything stored about one person, in a ZIP for them (subject access)",
        description="Write everything FaceGuard stores about one person to a new ZIP file readable by its "
        "owner only: their record and consent, their face photos and templates, the access events that "
        "recognised them with their snapshots, and the admin actions about them.",
    )
    export.add_argument("ref", metavar="REF", help="badge, #id or name")
    export.add_argument("--out", type=Path, required=True, metavar="FILE.zip", help="the ZIP file to create")
    export.set_defaults(run=run_people_export)
    bulk = people.add_parser(
        "import", parents=[engine, database], help="enroll everyone in a folder: photo files and per-person subfolders"
    )
    bulk.add_argument("folder", type=Path, metavar="FOLDER")
    bulk.add_argument(
        "--consent",
        action="store_true",
        help="everyone in the folder agreed to have their face stored, e.g. on signed forms (records when)",
    )
    bulk.add_argument("--accept-low-quality", action="store_true", help=ACCEPT_LOW_QUALITY_HELP)
    bulk.set_defaults(run=run_people_import)
    reencode = people.add_parser(
        "reencode",
        parents=[engine, database],
        help="give everyone templates of --model, made from their stored photos (switch models without re-enrolling)",
        description="Re-encode every enrolled face with --model from the face thumbnails the database keeps. "
        "Templates of other models are kept, so switching back needs no re-enrollment; running "
        "it again only encodes faces added since.",
    )
    reencode.set_defaults(run=run_people_reencode)


def run_enroll(args: argparse.Namespace) -> int:
    image = read_image(args.photo)
    with open_store(args, create=True) as store:
        details = {**person_details(args, PERSON_FIELDS), **consent_details(args, "cli")}
        template = checked_template(common.load_pipeline(args), image, args.photo, args.accept_low_quality)
        person = store.enroll(args.name, template, **details)
    print(f"Enrolled {describe(person)} from {args.photo.name}. Quality: {quality_summary(template.quality)}.")
    warn_if_accepted(template, args.photo.name)
    if not args.consent:
        print(NO_CONSENT, file=sys.stderr)
    return 0


def run_people_list(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        people = store.people(args.search)
    headers = ["id", "name", "badge", "group", "active", "valid until", "photos"]
    rows = [[p.id, p.name, p.badge, p.group, yes_no(p.active), local_time(p.valid_until), p.templates] for p in people]
    if args.csv:
        write_csv(headers, rows, "-")
    else:
        print_table(headers, rows)
    return 0


def run_people_show(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        person = store.find_person(args.ref)
        templates = store.templates(person.id)
    print_fields(
        [
            ("id", person.id),
            ("name", person.name),
            ("badge", person.badge),
            ("group", person.group),
            ("active", yes_no(person.active)),
            ("valid from", local_time(person.valid_from)),
            ("valid until", local_time(person.valid_until)),
            ("notes", person.notes),
            ("pseudonym", person.pseudonym),
            ("created", local_time(person.created)),
            ("updated", local_time(person.updated)),
            ("consent", consent_text(person)),
        ]
    )
    print(f"\nphotos ({len(templates)}):")
    print_table(
        ["template", "model", "source", "created", "quality"],
        [[t.id, t.model_id, t.source, local_time(t.created), quality_summary(t.quality)] for t in templates],
    )
    for template in templates:
        if template.accepted_below is not None:
            print(f"template {template.id} was enrolled below the recommended quality: {template.accepted_below}")
    return 0


def run_people_add_photo(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        person = store.find_person(args.ref)
        image = read_image(args.photo)
        template = checked_template(common.load_pipeline(args), image, args.photo, args.accept_low_quality)
        template_id = store.add_template(person.id, template)
    print(
        f"Added {args.photo.name} to {describe(person)} as template {template_id}. "
        f"Quality: {quality_summary(template.quality)}."
    )
    warn_if_accepted(template, args.photo.name)
    return 0


def checked_template(pipeline: FacePipeline, image: np.ndarray, path: Path, accept_low_quality: bool) -> NewTemplate:
    """The template of the photo at ``path``; one below the recommended quality only with
    ``accept_low_quality`` (otherwise its QualityError, with the hint that the flag enrolls it anyway)."""
    from faceguard.app.enrollment import prepare_template

    template, _ = prepare_template(pipeline, image, photo_source(path), accept_low_quality=True)
    if template.accepted_below is not None and not accept_low_quality:
        raise QualityError(f"{template.accepted_below} {LOW_QUALITY_HINT}")
    return template


def warn_if_accepted(template: NewTemplate, photo: str) -> None:
    """Say on stderr that ``photo`` was enrolled below the recommended quality, and why."""
    if template.accepted_below is not None:
        print(
            f"warning: {photo} is below the recommended quality (recorded with the photo): {template.accepted_below}",
            file=sys.stderr,
        )


def run_people_edit(args: argparse.Namespace) -> int:
    changes = person_details(args, ("name", *PERSON_FIELDS))
    if not changes:
        raise InvalidInputError(
            "Nothing to change: give at least one of --name, --badge, --group, --valid-from, --valid-until, --notes."
        )
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
    print(
        f"Erased {describe(person)} and their {person.templates} photos; "
        f"the access log keeps them as {person.pseudonym}."
    )
    return 0


def run_people_export(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        person = store.find_person(args.ref)
        done = export_subject(store, person.id, args.out, load_settings(store).site_name)
    print(
        f"Exported {describe(person)} to {done.path}: {done.templates} face photos and templates, "
        f"{done.events} access events ({done.snapshots} with a snapshot). It holds their face: hand it to them "
        "securely and delete your copy."
    )
    return 0


def confirm(question: str) -> bool:
    """Ask on the terminal; without one the caller must have been told to pass --yes."""
    if not sys.stdin.isatty():
        raise InvalidInputError(f"{question} Not asking without a terminal: pass --yes to confirm.")
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def run_people_import(args: argparse.Namespace) -> int:
    plan = import_plan(args.folder, IMAGE_SUFFIXES)
    for path, reason in plan.ignored:
        print(f"ignored {path.relative_to(args.folder)}: {reason}", file=sys.stderr)
    if not plan.people:
        raise FaceGuardError(f"No photos ({', '.join(sorted(IMAGE_SUFFIXES))}) found in {args.folder}.")
    with open_store(args, create=True) as store:
        pipeline = common.load_pipeline(args)
        errors: list[FaceGuardError] = []
        people = photos = accepted = 0
        with tqdm(total=sum(len(paths) for _, paths in plan.people), desc="importing", unit="photo") as bar:
            for name, paths in plan.people:
                templates = prepare_templates(pipeline, name, paths, args, bar, errors)
                if templates:
                    store.enroll(name, *templates, **consent_details(args, "import"))
                    people, photos = people + 1, photos + len(templates)
                    accepted += sum(template.accepted_below is not None for template in templates)
    below = f", {accepted} below the recommended quality" if accepted else ""
    print(f"Imported {people} people ({photos} photos{below}); {len(errors)} photos skipped.")
    if people and not args.consent:
        print(NO_CONSENT, file=sys.stderr)
    return 0 if people else errors[0].exit_code


@dataclass(frozen=True)
class ImportPlan:
    """people: (name, photos) per person to enroll; ignored: (path, why) of every other file and folder."""

    people: list[tuple[str, list[Path]]]
    ignored: list[tuple[Path, str]]


def import_plan(folder: Path, suffixes: set[str]) -> ImportPlan:
    """Each photo directly in ``folder`` is a person named after the file, each subfolder a person named
    after the folder with all its photos (``_`` reads as a space). Hidden files and folders are passed over
    in silence; other files, folders inside a person's folder and folders without photos are ignored."""
    if not folder.is_dir():
        raise FaceGuardError(f"{folder} is not a folder.")
    plan = ImportPlan([], [])
    for entry in sorted(visible(folder)):
        if entry.is_dir():
            inside = sorted(visible(entry))
            photos = [path for path in inside if is_photo(path, suffixes)]
            plan.ignored.extend((path, ignored_because(path, suffixes)) for path in inside if path not in photos)
            if photos:
                plan.people.append((person_name(file_name(entry)), photos))
            elif not inside:
                plan.ignored.append((entry, "an empty folder"))
        elif is_photo(entry, suffixes):
            plan.people.append((person_name(Path(file_name(entry)).stem), [entry]))
        else:
            plan.ignored.append((entry, ignored_because(entry, suffixes)))
    return plan


def ignored_because(path: Path, suffixes: set[str]) -> str:
    """Why ``path``, in the folder or in a person's folder, is not a photo to import."""
    if path.is_dir():
        return "a folder inside a person's folder"
    if not path.is_file():
        return "not a file (a broken link or a device)"
    return f"not a photo ({', '.join(sorted(suffixes))})"


def visible(folder: Path) -> list[Path]:
    """The files and folders in ``folder`` whose names do not start with a dot."""
    return [path for path in folder.iterdir() if not path.name.startswith(".")]


def person_name(name: str) -> str:
    return name.replace("_", " ").strip()


def is_photo(path: Path, suffixes: set[str]) -> bool:
    return path.is_file() and path.suffix.lower() in suffixes


def prepare_templates(
    pipeline: FacePipeline,
    person: str,
    paths: list[Path],
    args: argparse.Namespace,
    bar: tqdm,
    errors: list[FaceGuardError],
) -> list[NewTemplate]:
    """The templates of ``person``'s usable photos (below the recommended quality only with
    ``--accept-low-quality``, and then reported); each refused one is reported, added to ``errors`` and skipped.
    A file or folder name that holds no name (``_.jpg``) refuses its photos."""
    templates = []
    for path in paths:
        name = path.relative_to(args.folder)
        try:
            if not person:
                raise InvalidInputError(NO_NAME)
            templates.append(checked_template(pipeline, read_image(path), path, args.accept_low_quality))
        except (ImageError, QualityError, InvalidInputError) as error:
            errors.append(error)
            bar.write(f"skipped {name}: {error}", file=sys.stderr)
        else:
            if templates[-1].accepted_below is not None:
                bar.write(
                    f"accepted {name} below the recommended quality: {templates[-1].accepted_below}", file=sys.stderr
                )
        bar.update()
    return templates


def consent_details(args: argparse.Namespace, method: str) -> dict[str, Any]:
    """consent_at (now) and how it was given, when --consent was passed; nothing otherwise."""
    return {"consent_at": now(), "consent_method": method} if args.consent else {}


def person_details(args: argparse.Namespace, fields: Iterable[str]) -> dict[str, Any]:
    """The person fields given on the command line (None = not given)."""
    return {field: value for field in fields if (value := getattr(args, field)) is not None}


def quality_summary(quality: dict[str, float | str]) -> str:
    return ", ".join(text.format(quality[key]) for key, text in QUALITY_FIGURES if key in quality)


def run_people_reencode(args: argparse.Namespace) -> int:
    from faceguard.app.reencode import reencode

    with open_store(args) as store:
        pipeline = common.load_pipeline(args)
        with tqdm(desc=f"re-encoding with {pipeline.spec.id}", unit="person") as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            report = reencode(store, pipeline, progress)
    for failure in report.failed:
        print(
            f"failed: template {failure.template_id} of person #{failure.person_id}: {failure.reason}", file=sys.stderr
        )
    print(report.summary())
    return 1 if report.failed else 0
