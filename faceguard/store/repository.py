"""``Store``: the FaceGuard database, one class made of its parts (people, templates, the change log,
the access log, the door rules, settings, maintenance, retention, subject access), which alone hold SQL.

``Store`` owns one connection, so use one ``Store`` per thread (the kiosk's inference worker and the
GUI thread each open their own). Every multi-row write is one transaction; every SQLite failure
surfaces as a ``StoreError`` subclass with a message for the operator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from faceguard.core.errors import StoreError
from faceguard.store.base import guarded
from faceguard.store.db import (
    connect,
    default_db_path,
    enable_wal,
    make_private,
    translate_errors,
    write_transaction,
)
from faceguard.store.door_rules_table import DoorRulesTable
from faceguard.store.events import EventsTable
from faceguard.store.gallery_snapshot import GallerySnapshots
from faceguard.store.maintenance import Maintenance
from faceguard.store.migrations import check_schema, migrate
from faceguard.store.people import PeopleTable, Person
from faceguard.store.retention import Retention
from faceguard.store.site_replica import SiteReplica
from faceguard.store.subject_records import SubjectRecords
from faceguard.store.templates import NewTemplate, TemplatesTable


class Store(
    SiteReplica,
    DoorRulesTable,
    PeopleTable,
    TemplatesTable,
    EventsTable,
    GallerySnapshots,
    Maintenance,
    Retention,
    SubjectRecords,
):
    """The FaceGuard database. ``Store.open()`` creates or migrates the file; use it as a context manager."""

    @classmethod
    def open(cls, path: Path | str | None = None, create: bool = True) -> Self:
        """Open ``path`` (default: ``default_db_path()``) and apply pending migrations; with
        ``create=False`` a missing file is an error rather than a new empty database."""
        path = Path(path) if path is not None else default_db_path()
        if not create and not path.exists():
            raise StoreError(
                f"There is no FaceGuard database at {path}. Enroll someone first, or point --db or "
                "$FACEGUARD_DB at the right file."
            )
        db = connect(path)
        store = cls(db, path)
        try:
            with translate_errors(path):
                check_schema(db, path)
                make_private(path)
                enable_wal(db, path)
                migrate(db)
                store._prune_change_log()
        except BaseException:
            db.close()
            raise
        return store

    def close(self) -> None:
        self.db.close()

    def set_busy_timeout(self, milliseconds: int) -> None:
        """How long a write waits for another program's write lock before DatabaseLockedError."""
        self.db.execute(f"PRAGMA busy_timeout = {int(milliseconds)}")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @guarded
    def enroll(self, name: str, template: NewTemplate, *more: NewTemplate, **details: Any) -> Person:
        """Add a person with one template (one photo is enough) or several, in one transaction
        (details: badge, group, active, valid_from, valid_until, notes, consent_at, consent_method,
        consent_version: the current notice's unless named)."""
        with write_transaction(self.db):
            person_id = self._insert_person(name, details)
            for each in (template, *more):
                self._insert_template(person_id, each)
        return self.person(person_id)

    @guarded
    def add_template(self, person_id: int, template: NewTemplate, *more: NewTemplate) -> int:
        """Add one or more templates to an existing person in one transaction; returns the first's id."""
        with write_transaction(self.db):
            self.person(person_id)
            return [self._insert_template(person_id, each) for each in (template, *more)][0]
