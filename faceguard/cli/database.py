"""Database commands: db backup / check / info / rotate-key / purge."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from faceguard.app.display import local_time
from faceguard.app.settings import load_settings
from faceguard.cli.common import open_store, print_fields
from faceguard.core.errors import FaceGuardError, StoreError
from faceguard.store import keys
from faceguard.store.migrations import SCHEMA, schema_version
from faceguard.store.repository import Store
from faceguard.vision.spec import get_model_spec


def add_db_commands(commands: Any, database: argparse.ArgumentParser) -> None:
    db = commands.add_parser("db", help="back up, check or describe the database").add_subparsers(
        dest="action", required=True
    )
    backup = db.add_parser("backup", parents=[database], help="copy the database safely, even while in use")
    backup.add_argument("dest", type=Path, metavar="DEST", help="file, or folder for a time-stamped file")
    backup.set_defaults(run=run_db_backup)
    db.add_parser("check", parents=[database], help="integrity check").set_defaults(run=run_db_check)
    db.add_parser(
        "info", parents=[database], help="path, schema version, counts, size, and who has templates of which model"
    ).set_defaults(run=run_db_info)
    db.add_parser(
        "rotate-key",
        parents=[database],
        help="encrypt the face data with a new key (the old key file is kept as .retired)",
    ).set_defaults(run=run_db_rotate_key)
    purge = db.add_parser(
        "purge",
        parents=[database],
        help="delete the face snapshots and access events older than the retention settings now",
        description="Delete face snapshots and access events older than the site's retention settings "
        "(30 and 90 days unless changed in the admin window), as a running kiosk does once a day. "
        "The access log's chain is cut at a recorded point, so 'faceguard events verify' still checks the rest.",
    )
    purge.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    purge.set_defaults(run=run_db_purge)


def run_db_backup(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        print(store.backup(args.dest))
        key_id = store.key_id()
    print(
        f"The backup's face data is encrypted with key {key_id}, kept in {keys.location(key_id)}: "
        "back that key up separately, as the backup cannot be read without it.",
        file=sys.stderr,
    )
    return 0


def run_db_rotate_key(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        rotation = store.rotate_key()
    done = ", ".join(f"{count:,} {what}" for what, count in rotation.counts.items())
    print(f"Encrypted anew with key {rotation.new_key_id} ({keys.location(rotation.new_key_id)}): {done}.")
    print(
        f"The old key {rotation.old_key_id} is retired to {rotation.retired_to}; backups made before now need it "
        "(rename it back to open one). Back up the new key."
    )
    override = os.environ.get(keys.KEY_ENV)
    if override and rotation.retired_to == str(Path(override).expanduser()) + keys.RETIRED:
        print(f"${keys.KEY_ENV} named the old key: point it at the new one.")
    return 0


def run_db_purge(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        settings = load_settings(store)
        purge = store.purge_expired(
            settings.snapshot_retention_days, settings.event_retention_days, dry_run=args.dry_run
        )
    verb = "Would delete" if purge.dry_run else "Deleted"
    print(
        f"{verb} {purge.snapshots:,} face snapshots (older than {settings.snapshot_retention_days} days: before "
        f"{local_time(purge.snapshots_before)}) and {purge.events:,} access events (older than "
        f"{settings.event_retention_days} days: before {local_time(purge.events_before)})."
    )
    if purge.through is not None and not purge.dry_run:
        print(
            f"The log's chain now starts after position {purge.through}; the cut is recorded in the admin log "
            f"and {purge.admin_actions} older admin actions are kept, chained again after it."
        )
    if not purge.wiped:
        print(
            "Another program was reading the database, so the deleted data stays in its write-ahead log until "
            "that program's next checkpoint or exit.",
            file=sys.stderr,
        )
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
        models = [
            (f"model {model_id}", f"{_people(count)} with templates")
            for model_id, count in store.enrolled_by_model().items()
        ]
        kiosk = kiosk_model_fields(store)
    print_fields(
        [
            ("path", args.db.resolve()),
            ("schema", f"{version}/{len(SCHEMA)}"),
            ("people", counts["people"]),
            ("photos", counts["templates"]),
            ("access events", counts["access_events"]),
            ("size", f"{args.db.stat().st_size / 1024:.1f} KiB"),
            *models,
            *kiosk,
        ]
    )
    return 0


def kiosk_model_fields(store: Store) -> list[tuple[str, str]]:
    """The kiosk's model and how many enrolled people it cannot recognise for want of a template of
    it, with the command that makes those templates."""
    try:
        name = load_settings(store).model
        model_id = get_model_spec(name).id
    except FaceGuardError as error:
        return [("kiosk model", str(error))]
    missing = store.people_without_model(model_id)
    if not missing:
        return [("kiosk model", f"{model_id}: everyone with a face template has one of it")]
    have = "has" if missing == 1 else "have"
    return [
        (
            "kiosk model",
            f"{model_id}: {_people(missing)} {have} no template of it yet, so the kiosk cannot recognise them",
        ),
        ("to fix", f"faceguard people reencode --model {name}  (encodes their stored face photos)"),
    ]


def _people(count: int) -> str:
    return f"{count:,} {'person' if count == 1 else 'people'}"
