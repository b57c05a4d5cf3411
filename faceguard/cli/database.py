"""Database commands: db backup / check / info."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from faceguard.cli.common import open_store, print_fields
from faceguard.errors import StoreError
from faceguard.store.migrations import SCHEMA, schema_version


def add_db_commands(commands: Any, database: argparse.ArgumentParser) -> None:
    db = commands.add_parser("db", help="back up, check or describe the database").add_subparsers(
        dest="action", required=True
    )
    backup = db.add_parser("backup", parents=[database], help="copy the database safely, even while in use")
    backup.add_argument("dest", type=Path, metavar="DEST", help="file, or folder for a time-stamped file")
    backup.set_defaults(run=run_db_backup)
    db.add_parser("check", parents=[database], help="integrity check").set_defaults(run=run_db_check)
    db.add_parser("info", parents=[database], help="path, schema version, counts, size").set_defaults(run=run_db_info)


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
