"""What every command shares: options, opening the database and the engine, reading times, printing."""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tabulate import tabulate

from faceguard.app.engine import shared_pipeline
from faceguard.core.clock import day_end, day_start
from faceguard.core.errors import FaceGuardError
from faceguard.core.private_files import private_opener
from faceguard.store.db import default_db_path
from faceguard.store.people import Person
from faceguard.store.repository import Store
from faceguard.vision.spec import DEFAULT_MODEL

if TYPE_CHECKING:  # the engine (torch) loads only when a command needs it
    from faceguard.vision.faces import EncodedFace
    from faceguard.vision.pipeline import FacePipeline

WHEN_HELP = "WHEN: 2026-11-25 or 2026-11-25T08:00 (local time), or a span ago: 30m, 12h, 7d."


SPAN = re.compile(r"(\d+)([mhd])", re.IGNORECASE)


SPAN_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def engine_options() -> argparse.ArgumentParser:
    """--model, --device and --threads, for commands that run the neural networks."""
    engine = argparse.ArgumentParser(add_help=False)
    engine.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        metavar="NAME",
        help=f"the face encoder: {DEFAULT_MODEL} (default), another builtin or an exported model "
        "(see: faceguard models)",
    )
    engine.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, cuda:N or mps")
    engine.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads for inference (default: the cores other programs leave free)",
    )
    return engine


#: Site mode's server URL, with this computer's credentials (kept out of the shell history).
SITE_URL_ENV = "FACEGUARD_SITE_URL"


def database_options() -> argparse.ArgumentParser:
    """--db, for commands that use the database."""
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument(
        "--db",
        type=Path,
        default=default_db_path(),
        metavar="PATH",
        help="the database file (default: $FACEGUARD_DB, else %(default)s); in site mode, this computer's replica",
    )
    database.add_argument(
        "--site",
        metavar="URL",
        default=os.environ.get(SITE_URL_ENV),
        help=f"site mode: the site's PostgreSQL server with your credentials (an admin's, or a door's for the "
        f"kiosk), postgresql://USER:PASSWORD@HOST:5432/DATABASE (default: ${SITE_URL_ENV}); see docs/deployment.md",
    )
    return database


def parse_when(text: str, end_of_day: bool = False) -> datetime:
    """A moment typed on the command line, as an aware datetime: an ISO date or date-time in local
    time, or ``30m`` / ``12h`` / ``7d`` ago. With ``end_of_day`` a date alone means its last moment."""
    text = text.strip()
    if span := SPAN.fullmatch(text):
        return datetime.now().astimezone() - timedelta(**{SPAN_UNITS[span[2].lower()]: int(span[1])})
    try:
        moment = (day_end if end_of_day else day_start)(date.fromisoformat(text))
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
    """The engine for --model, --device and --threads (loaded once per process: ``shared_pipeline``)."""
    return shared_pipeline(getattr(args, "model", DEFAULT_MODEL), args.device, args.threads)


def open_store(args: argparse.Namespace, create: bool = False) -> Store:
    """The database named by --db; only commands that enroll may create it (a typo must not make a new file).
    With --site, that file is this computer's replica of the site: brought up to date, its changes made
    on the server."""
    if getattr(args, "site", None):
        from faceguard.app.site_admin import SiteAdminStore  # psycopg loads only in site mode

        return SiteAdminStore.open_site(args.site, args.db)
    return Store.open(args.db, create=create)


def threshold_of(args: argparse.Namespace, pipeline: FacePipeline) -> float:
    """The --threshold typed, else the model's."""
    return pipeline.spec.threshold_or(args.threshold)


def encode_single_face(pipeline: FacePipeline, image: np.ndarray) -> EncodedFace:
    """The one person in ``image``, encoded (NoFaceError / MultipleFacesError otherwise)."""
    return pipeline.encode_faces(image, [pipeline.single_face(image)])[0]


def describe(person: Person) -> str:
    badge = f", badge {person.badge}" if person.badge else ""
    return f"{person.name} (#{person.id}{badge})"


def write_csv(headers: list[str], rows: list[list[Any]], destination: str) -> None:
    """CSV to the file ``destination`` (readable by its owner only), or to stdout for "-"."""
    if destination == "-":
        csv.writer(sys.stdout).writerows([headers, *rows])
        return
    try:
        with open(destination, "w", newline="", encoding="utf-8", opener=private_opener) as file:
            csv.writer(file).writerows([headers, *rows])
    except OSError as error:
        raise FaceGuardError(f"Cannot write {destination}: {error.strerror or error}.") from None


def print_table(headers: Sequence[str], rows: list[list[Any]]) -> None:
    print(tabulate(rows, headers=list(headers), tablefmt="plain", missingval="", disable_numparse=True))


def print_fields(fields: list[tuple[str, Any]]) -> None:
    width = max(len(label) for label, _ in fields)
    for label, value in fields:
        print(f"{label.ljust(width)}  {'' if value is None else value}".rstrip())


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"
