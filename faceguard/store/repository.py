"""Typed reads and writes of people, templates, access events and settings: the only module with SQL.

``Store`` owns one connection, so use one ``Store`` per thread (the kiosk's inference worker and the
GUI thread each open their own). Every multi-row write is one transaction; every SQLite failure
surfaces as a ``StoreError`` subclass with a message for the operator.
"""

from __future__ import annotations

import functools
import json
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import numpy as np

from faceguard.access.policy import PersonStatus
from faceguard.core.errors import (
    ConflictError,
    CorruptDatabaseError,
    NotFoundError,
    ReadOnlyDatabaseError,
    StoreError,
)
from faceguard.core.types import Thumbnail
from faceguard.store.db import (
    connect,
    default_db_path,
    enable_wal,
    translate_errors,
    translated,
    write_transaction,
)
from faceguard.store.migrations import check_schema, migrate

P = ParamSpec("P")
R = TypeVar("R")

#: Change-log rows older than this are pruned when a writer opens the file; a gallery that has been
#: away longer simply reloads in full.
CHANGE_LOG_RETENTION = timedelta(days=7)
DECISIONS = ("granted", "denied", "unknown", "rejected-quality")
#: The key of a template's quality figures that records, for a photo the admin enrolled below the
#: recommended quality, the warning they accepted (e.g. "The face is blurred. …").
ACCEPTED_BELOW = "accepted_below"


def now() -> datetime:
    return datetime.now(UTC)


def to_text(moment: datetime | None) -> str | None:
    """The stored form of a time: ISO 8601 in UTC with milliseconds (sorts as text)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a naive time is the operator's local time
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def from_text(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    badge: str | None
    group: str | None
    active: bool
    valid_from: datetime | None
    valid_until: datetime | None
    notes: str | None
    pseudonym: str  # what the access log keeps after the person is erased
    created: datetime
    updated: datetime
    templates: int  # how many face templates (of any model) are enrolled
    consent_at: datetime | None = None  # when they agreed to have their face stored (None: not recorded)
    consent_method: str | None = None  # how that agreement was given, e.g. "wizard", "cli", "form"

    def status(self) -> PersonStatus:
        """What the access policy needs to know about this person."""
        return _status(self.id, self.name, self.active, self.valid_from, self.valid_until)


class _Quality:
    """What templates know of their photo's quality."""

    quality: dict[str, float | str]  # the measured figures, and ACCEPTED_BELOW when it applies

    @property
    def accepted_below(self) -> str | None:
        """The warning accepted when this photo was enrolled below the recommended quality, else None."""
        return self.quality.get(ACCEPTED_BELOW)  # type: ignore[return-value]


@dataclass(frozen=True, eq=False)
class NewTemplate(_Quality):
    """A face ready to store: its encoding by ``model_id``, its thumbnail and how it was taken."""

    model_id: str
    encoding: np.ndarray
    thumbnail: Thumbnail
    quality: dict[str, float | str]
    source: str  # e.g. "photo:alice.jpg" or "camera:0"


@dataclass(frozen=True, eq=False)
class Template(_Quality):
    id: int
    person_id: int
    model_id: str
    encoding: np.ndarray
    quality: dict[str, float | str]
    source: str | None
    created: datetime


@dataclass(frozen=True)
class AccessEvent:
    id: int
    time: datetime
    door: str | None
    decision: str  # granted / denied / unknown / rejected-quality
    reason: str  # the policy's outcome, e.g. "expired"
    message: str | None
    person_id: int | None
    person_name: str | None  # None once the person has been erased
    subject: str | None  # the person's pseudonym, kept after erasure
    distance: float | None
    threshold: float | None
    model_id: str | None
    latency_ms: float | None
    has_snapshot: bool


@dataclass(frozen=True)
class ChangeBatch:
    """People whose templates or status changed after a change-log position."""

    last_seq: int
    person_ids: frozenset[int]
    complete: bool  # False when the log was pruned past the caller's position: reload everything


def _guarded(method: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with translate_errors(args[0].path):  # type: ignore[attr-defined]
            return method(*args, **kwargs)

    return wrapper


_PERSON_COLUMNS = {
    "name",
    "badge",
    "group",
    "active",
    "valid_from",
    "valid_until",
    "notes",
    "consent_at",
    "consent_method",
}
_PERSON_SELECT = """
    SELECT p.*, (SELECT count(*) FROM templates t WHERE t.person_id = p.id) AS template_count
    FROM people p
"""
_EVENT_SELECT = """
    SELECT e.*, p.name AS person_name, EXISTS (SELECT 1 FROM event_snapshots s WHERE s.event_id = e.id) AS snap
    FROM access_events e LEFT JOIN people p ON p.id = e.person_id
"""


class Store:
    """The FaceGuard database. ``Store.open()`` creates or migrates the file; use it as a context manager."""

    def __init__(self, db: Any, path: Path) -> None:
        self.db = db
        self.path = path

    @classmethod
    def open(cls, path: Path | str | None = None, create: bool = True) -> Store:
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

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- people -------------------------------------------------------------------------------

    @_guarded
    def enroll(self, name: str, template: NewTemplate, *more: NewTemplate, **details: Any) -> Person:
        """Add a person with one template (one photo is enough) or several, in one transaction
        (details: badge, group, active, valid_from, valid_until, notes, consent_at, consent_method)."""
        with write_transaction(self.db):
            person_id = self._insert_person(name, details)
            for each in (template, *more):
                self._insert_template(person_id, each)
        return self.person(person_id)

    @_guarded
    def add_person(self, name: str, **details: Any) -> Person:
        """Add a person without a template yet (details as for ``enroll``)."""
        with write_transaction(self.db):
            person_id = self._insert_person(name, details)
        return self.person(person_id)

    @_guarded
    def add_template(self, person_id: int, template: NewTemplate, *more: NewTemplate) -> int:
        """Add one or more templates to an existing person in one transaction; returns the first's id."""
        with write_transaction(self.db):
            self.person(person_id)
            return [self._insert_template(person_id, each) for each in (template, *more)][0]

    @_guarded
    def update_person(self, person_id: int, **changes: Any) -> Person:
        """Change any of name, badge, group, active, valid_from, valid_until, notes, consent_at,
        consent_method (consent_at=None withdraws the recorded consent, and its method with it)."""
        unknown = set(changes) - _PERSON_COLUMNS
        if unknown:
            raise ValueError(f"Unknown person fields: {', '.join(sorted(unknown))}.")
        if "consent_at" in changes and changes["consent_at"] is None:
            changes.setdefault("consent_method", None)
        with write_transaction(self.db):
            current = self.person(person_id)
            row = _person_row({**{f: getattr(current, f) for f in _PERSON_COLUMNS}, **changes})
            row["updated"] = to_text(now())
            assignments = ", ".join(f"{column} = :{column}" for column in row)
            self._execute_checked(f"UPDATE people SET {assignments} WHERE id = :id", {**row, "id": person_id})
        return self.person(person_id)

    def set_active(self, person_id: int, active: bool) -> Person:
        return self.update_person(person_id, active=active)

    @_guarded
    def remove_person(self, person_id: int) -> Person:
        """Erase a person: their templates, thumbnails and event snapshots go; their events keep
        only the pseudonym, so the log stays complete without naming them."""
        with write_transaction(self.db):
            person = self.person(person_id)
            self.db.execute(
                "DELETE FROM event_snapshots WHERE event_id IN (SELECT id FROM access_events WHERE person_id = ?)",
                [person_id],
            )
            self.db.execute("DELETE FROM people WHERE id = ?", [person_id])
        return person

    @_guarded
    def person(self, person_id: int) -> Person:
        rows = self._people_where("p.id = ?", [person_id])
        if not rows:
            raise NotFoundError(f"No person with id {person_id} is enrolled.")
        return rows[0]

    @_guarded
    def person_by_badge(self, badge: str) -> Person:
        rows = self._people_where("p.badge = ?", [badge.strip()])
        if not rows:
            raise NotFoundError(f"Nobody enrolled has the badge {badge}. See: faceguard people list")
        return rows[0]

    @_guarded
    def find_person(self, reference: str) -> Person:
        """The person a user means by ``reference``: a badge number, ``#id``, or a unique name."""
        reference = reference.strip()
        if reference.startswith("#") and reference[1:].isdigit():
            return self.person(int(reference[1:]))
        rows = self._people_where("p.badge = ?", [reference])
        rows = rows or self._people_where("casefold(p.name) = casefold(?)", [reference])
        if not rows:
            raise NotFoundError(f"Nobody enrolled has the badge or name '{reference}'. See: faceguard people list")
        if len(rows) > 1:
            ids = ", ".join(f"#{person.id}" for person in rows)
            raise ConflictError(f"{len(rows)} people are called '{reference}' ({ids}); name one by badge or #id.")
        return rows[0]

    @_guarded
    def people(self, search: str | None = None, include_inactive: bool = True) -> list[Person]:
        """Everyone, ordered by name; ``search`` matches name, badge or group (case-insensitive)."""
        clauses, params = [], []
        if search:
            literal = search.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            columns = ("p.name", "p.badge", "p.group_name")
            clauses.append("(" + " OR ".join(f"casefold({c}) LIKE ? ESCAPE '\\'" for c in columns) + ")")
            params += [f"%{literal}%"] * len(columns)
        if not include_inactive:
            clauses.append("p.active = 1")
        return self._people_where(" AND ".join(clauses) or "1", params)

    @_guarded
    def status_rows(self, person_ids: Iterable[int] | None = None) -> list[tuple]:
        """(id, name, active 0/1, valid_from, valid_until epoch seconds) of everyone (or of ``person_ids``):
        the lean read a gallery makes at start-up. ``status_from_row`` turns a row into a PersonStatus
        (100k dataclass instances would cost ~90 ms; the gallery builds one only for a matched face)."""
        # SQL turns the stored ISO times into epoch seconds (whole seconds + milliseconds, exact):
        # parsing 100k of them in Python would double the gallery's start-up time.
        epoch = "strftime('%s', {0}) + substr({0}, 21, 3) / 1000.0"
        sql = f"SELECT id, name, active, {epoch.format('valid_from')}, {epoch.format('valid_until')} FROM people"
        params: list[Any] = []
        if person_ids is not None:
            sql += " WHERE id IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(sorted(person_ids)))
        return self.db.execute(sql, params).fetchall()

    @_guarded
    def templates(self, person_id: int) -> list[Template]:
        return [
            _template(row)
            for row in self._query("SELECT * FROM templates WHERE person_id = ? ORDER BY id", [person_id])
        ]

    @_guarded
    def face(self, person_id: int) -> bytes | None:
        """The JPEG face of the person's first enrolled photo (None: no photo, or no such person)."""
        row = self.db.execute(
            "SELECT th.jpeg FROM templates t LEFT JOIN template_thumbnails th ON th.template_id = t.id"
            " WHERE t.person_id = ? ORDER BY t.id LIMIT 1",
            [person_id],
        ).fetchone()
        return None if row is None else row[0]

    @_guarded
    def thumbnail(self, template_id: int) -> Thumbnail:
        row = self.db.execute(
            "SELECT jpeg, landmarks FROM template_thumbnails WHERE template_id = ?", [template_id]
        ).fetchone()
        if row is None:
            raise NotFoundError(f"Template {template_id} has no stored face thumbnail.")
        return Thumbnail(row[0], np.asarray(json.loads(row[1]), np.float32))

    @_guarded
    def load_encodings(self, model_id: str, person_ids: Iterable[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(person ids (N,), encodings (N, D) float32) of every template made by ``model_id``
        (only of ``person_ids`` when given)."""
        sql = "SELECT person_id, encoding FROM templates WHERE model_id = ?"
        params: list[Any] = [model_id]
        if person_ids is not None:
            sql += " AND person_id IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(sorted(person_ids)))
        rows = self.db.execute(sql + " ORDER BY id", params).fetchall()
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        if not rows:
            return ids, np.empty((0, 0), np.float32)
        sizes = {len(row[1]) for row in rows}
        if len(sizes) > 1 or sizes.pop() % 4:
            raise CorruptDatabaseError(
                f"{self.path}: templates of model {model_id} have encodings of different sizes; run faceguard db check."
            )
        blob = b"".join(row[1] for row in rows)
        return ids, np.frombuffer(blob, dtype="<f4").reshape(len(rows), -1).astype(np.float32, copy=False)

    @_guarded
    def last_change(self) -> int:
        """The change log's current position (what ``changes_after`` will count from)."""
        last = self.db.execute("SELECT max(seq) FROM changes").fetchone()[0] or 0
        return max(last, int(self.get_setting("changes_pruned_through", 0)))

    @_guarded
    def changes_after(self, seq: int) -> ChangeBatch:
        """Who changed since change-log position ``seq`` (0 = from the beginning)."""
        rows = self.db.execute("SELECT seq, person_id FROM changes WHERE seq > ? ORDER BY seq", [seq]).fetchall()
        pruned_through = int(self.get_setting("changes_pruned_through", 0))
        last = rows[-1][0] if rows else max(seq, pruned_through)
        return ChangeBatch(last, frozenset(row[1] for row in rows), complete=seq >= pruned_through)

    # --- access log ---------------------------------------------------------------------------

    @_guarded
    def log_event(
        self,
        decision: str,
        reason: str,
        *,
        time: datetime | None = None,
        person_id: int | None = None,
        message: str | None = None,
        door: str | None = None,
        distance: float | None = None,
        threshold: float | None = None,
        model_id: str | None = None,
        latency_ms: float | None = None,
        snapshot: bytes | None = None,
    ) -> int:
        """Append one access decision (with an optional JPEG face snapshot); returns its id."""
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
        with write_transaction(self.db):
            subject = None
            if person_id is not None:  # a person erased since the decision is logged as nobody
                row = self.db.execute("SELECT pseudonym FROM people WHERE id = ?", [person_id]).fetchone()
                person_id, subject = (person_id, row[0]) if row else (None, None)
            cursor = self.db.execute(
                "INSERT INTO access_events (time, door, decision, reason, message, person_id, subject, distance,"
                " threshold, model_id, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    to_text(time or now()),
                    door,
                    decision,
                    reason,
                    message,
                    person_id,
                    subject,
                    _float(distance),
                    _float(threshold),
                    model_id,
                    _float(latency_ms),
                ],
            )
            event_id = int(cursor.lastrowid)
            if snapshot is not None:
                self.db.execute("INSERT INTO event_snapshots (event_id, jpeg) VALUES (?, ?)", [event_id, snapshot])
        return event_id

    @_guarded
    def events(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        person_id: int | None = None,
        decision: str | None = None,
        limit: int | None = None,
        newest_first: bool = True,
        subject: str | None = None,
    ) -> list[AccessEvent]:
        """Access events, filtered; ``subject`` finds an erased person's events by their pseudonym.
        ``limit`` keeps the first rows in the chosen order (the newest N when newest_first)."""
        clauses, params, order = [], [], "DESC" if newest_first else "ASC"
        for clause, value in [
            ("e.time >= ?", to_text(since)),
            ("e.time <= ?", to_text(until)),
            ("e.person_id = ?", person_id),
            ("e.decision = ?", decision),
            ("e.subject = ?", subject),
        ]:
            if value is not None:
                clauses.append(clause)
                params.append(value)
        sql = f"{_EVENT_SELECT} WHERE {' AND '.join(clauses) or '1'} ORDER BY e.time {order}, e.id {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_event(row) for row in self._query(sql, params)]

    @_guarded
    def event_snapshot(self, event_id: int) -> bytes | None:
        row = self.db.execute("SELECT jpeg FROM event_snapshots WHERE event_id = ?", [event_id]).fetchone()
        return None if row is None else row[0]

    # --- settings and maintenance -------------------------------------------------------------

    @_guarded
    def get_setting(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return default if row is None else json.loads(row[0])

    def set_setting(self, key: str, value: Any) -> None:
        self.set_settings({key: value})

    @_guarded
    def set_settings(self, values: Mapping[str, Any]) -> None:
        """Store several settings (JSON values) in one transaction."""
        with write_transaction(self.db):
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
                [(key, json.dumps(value)) for key, value in values.items()],
            )

    @_guarded
    def enrolled_count(self, model_id: str) -> int:
        """How many people have at least one template of ``model_id`` (the size of its gallery)."""
        sql = "SELECT count(DISTINCT person_id) FROM templates WHERE model_id = ?"
        return int(self.db.execute(sql, [model_id]).fetchone()[0])

    @_guarded
    def people_without_model(self, model_id: str) -> int:
        """How many people have templates of other models but none of ``model_id``: those its gallery
        lacks until their faces are re-encoded with it (``faceguard.app.reencode``)."""
        sql = (
            "SELECT (SELECT count(DISTINCT person_id) FROM templates)"
            " - (SELECT count(DISTINCT person_id) FROM templates WHERE model_id = ?)"
        )
        return int(self.db.execute(sql, [model_id]).fetchone()[0])

    @_guarded
    def enrolled_by_model(self) -> dict[str, int]:
        """For each model with templates, how many people have at least one of them (by model id)."""
        sql = "SELECT model_id, count(DISTINCT person_id) FROM templates GROUP BY model_id ORDER BY model_id"
        return {model_id: int(people) for model_id, people in self.db.execute(sql).fetchall()}

    @_guarded
    def counts(self) -> dict[str, int]:
        tables = ["people", "templates", "access_events"]
        return {table: self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}

    @_guarded
    def check(self) -> list[str]:
        """Problems found by SQLite's integrity and foreign-key checks and FaceGuard's own rules
        (an empty list means the file is sound)."""
        problems = [row[0] for row in self.db.execute("PRAGMA integrity_check").fetchall() if row[0] != "ok"]
        problems += [
            f"{row[0]} row {row[1]} points to a missing {row[2]} row"
            for row in self.db.execute("PRAGMA foreign_key_check").fetchall()
        ]
        for model_id, sizes in self.db.execute(
            "SELECT model_id, group_concat(DISTINCT length(encoding)) FROM templates GROUP BY model_id"
        ).fetchall():
            if "," in str(sizes) or int(sizes) % 4:
                problems.append(f"templates of model {model_id} have encodings of different sizes ({sizes} bytes)")
        orphans = self.db.execute(
            "SELECT count(*) FROM templates t LEFT JOIN template_thumbnails h ON h.template_id = t.id "
            "WHERE h.template_id IS NULL"
        ).fetchone()[0]
        if orphans:
            problems.append(f"{orphans} templates have no face thumbnail (they cannot be re-encoded)")
        return problems

    @_guarded
    def backup(self, destination: Path) -> Path:
        """Copy the live database to ``destination`` with SQLite's online backup API (safe while the
        kiosk runs); the copy appears under its name only once complete. An existing file is never
        overwritten; a folder receives a time-stamped file."""
        destination = Path(destination)
        if not destination.parent.is_dir():
            raise StoreError(f"Cannot write the backup: the folder {destination.parent} does not exist.")
        if destination.is_dir():
            destination = destination / f"faceguard-{now().strftime('%Y%m%d-%H%M%S-%f')}.db"
        if destination.exists():
            raise ConflictError(f"{destination} already exists; choose a new file name or a folder.")
        partial = destination.with_name(destination.name + ".partial")
        partial.unlink(missing_ok=True)
        target = sqlite3.connect(partial)
        try:
            self.db.conn.backup(target)
        finally:
            target.close()
        partial.replace(destination)
        return destination

    # --- internals ----------------------------------------------------------------------------

    def _insert_person(self, name: str, details: dict[str, Any]) -> int:
        unknown = set(details) - (_PERSON_COLUMNS - {"name"})
        if unknown:
            raise ValueError(f"Unknown person fields: {', '.join(sorted(unknown))}.")
        stamp = to_text(now())
        row = {
            **_person_row({"name": name, "active": True, **details}),
            "pseudonym": f"P-{secrets.token_hex(8)}",
            "created": stamp,
            "updated": stamp,
        }
        columns = ", ".join(row)
        cursor = self._execute_checked(
            f"INSERT INTO people ({columns}) VALUES ({', '.join(':' + c for c in row)})", row
        )
        return int(cursor.lastrowid)

    def _insert_template(self, person_id: int, template: NewTemplate) -> int:
        encoding = np.asarray(template.encoding, dtype="<f4").reshape(-1)
        if not np.isfinite(encoding).all():
            raise ValueError("A face encoding with non-finite values cannot be stored.")
        cursor = self.db.execute(
            "INSERT INTO templates (person_id, model_id, encoding, quality, source, created) VALUES (?, ?, ?, ?, ?, ?)",
            [
                person_id,
                template.model_id,
                encoding.tobytes(),
                json.dumps(template.quality),
                template.source,
                to_text(now()),
            ],
        )
        template_id = int(cursor.lastrowid)
        self.db.execute(
            "INSERT INTO template_thumbnails (template_id, jpeg, landmarks) VALUES (?, ?, ?)",
            [template_id, template.thumbnail.jpeg, json.dumps(np.round(template.thumbnail.landmarks, 2).tolist())],
        )
        return template_id

    def _execute_checked(self, sql: str, params: dict[str, Any]) -> sqlite3.Cursor:
        """Run a people INSERT/UPDATE, turning a taken badge number into a ConflictError."""
        try:
            return self.db.execute(sql, params)
        except sqlite3.IntegrityError as error:
            if "people.badge" in str(error):
                owner = self.db.execute("SELECT name FROM people WHERE badge = ?", [params["badge"]]).fetchone()
                raise ConflictError(f"Badge {params['badge']} already belongs to {owner[0]}.") from error
            if "people.name" in str(error):
                raise ValueError("A person's name cannot be empty.") from error
            raise

    def _people_where(self, where: str, params: list[Any]) -> list[Person]:
        rows = self._query(f"{_PERSON_SELECT} WHERE {where} ORDER BY p.name COLLATE NOCASE, p.id", params)
        return [_person(row) for row in rows]

    def _query(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        cursor = self.db.execute(sql, params)
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]

    def _prune_change_log(self) -> None:
        """Drop change-log rows older than the retention (best effort: skipped on a read-only file)."""
        cutoff = (now() - CHANGE_LOG_RETENTION).strftime("%Y-%m-%dT%H:%M:%S")
        row = self.db.execute("SELECT max(seq) FROM changes WHERE time < ?", [cutoff]).fetchone()
        if row[0] is None:
            return
        try:
            with write_transaction(self.db):
                self.db.execute("DELETE FROM changes WHERE seq <= ?", [row[0]])
                self.db.execute(
                    "INSERT OR REPLACE INTO settings (key, value) VALUES ('changes_pruned_through', ?)", [row[0]]
                )
        except sqlite3.OperationalError as error:
            if not isinstance(translated(error, self.path), ReadOnlyDatabaseError):
                raise


def _person_row(values: dict[str, Any]) -> dict[str, Any]:
    name = str(values["name"]).strip()
    if not name:
        raise ValueError("A person's name cannot be empty.")
    valid_from, valid_until = values.get("valid_from"), values.get("valid_until")
    if valid_from and valid_until and to_text(valid_until) < to_text(valid_from):
        raise ValueError("valid_until is before valid_from.")
    consent_at, consent_method = values.get("consent_at"), values.get("consent_method")
    if consent_method is not None and consent_at is None:
        raise ValueError("A consent method needs the time consent was given (consent_at).")
    badge = values.get("badge")
    return {
        "name": name,
        "badge": str(badge).strip() or None if badge is not None else None,
        "group_name": values.get("group"),
        "active": int(bool(values.get("active", True))),
        "valid_from": to_text(valid_from),
        "valid_until": to_text(valid_until),
        "notes": values.get("notes"),
        "consent_at": to_text(consent_at),
        "consent_method": str(consent_method).strip() or None if consent_method is not None else None,
    }


def status_from_row(row: tuple) -> PersonStatus:
    """The PersonStatus of one ``Store.status_rows`` row."""
    person_id, name, active, valid_from, valid_until = row
    return PersonStatus(person_id, name, bool(active), valid_from, valid_until)


def _status(
    person_id: int, name: str, active: bool, valid_from: datetime | None, valid_until: datetime | None
) -> PersonStatus:
    def epoch(moment: datetime | None) -> float | None:
        return None if moment is None else moment.timestamp()

    return PersonStatus(person_id, name, active, epoch(valid_from), epoch(valid_until))


def _person(row: dict[str, Any]) -> Person:
    return Person(
        id=row["id"],
        name=row["name"],
        badge=row["badge"],
        group=row["group_name"],
        active=bool(row["active"]),
        valid_from=from_text(row["valid_from"]),
        valid_until=from_text(row["valid_until"]),
        notes=row["notes"],
        pseudonym=row["pseudonym"],
        created=from_text(row["created"]),
        updated=from_text(row["updated"]),
        templates=row["template_count"],
        consent_at=from_text(row["consent_at"]),
        consent_method=row["consent_method"],
    )


def _template(row: dict[str, Any]) -> Template:
    return Template(
        id=row["id"],
        person_id=row["person_id"],
        model_id=row["model_id"],
        encoding=np.frombuffer(row["encoding"], dtype="<f4").astype(np.float32),
        quality=json.loads(row["quality"] or "{}"),
        source=row["source"],
        created=from_text(row["created"]),
    )


def _event(row: dict[str, Any]) -> AccessEvent:
    return AccessEvent(
        id=row["id"],
        time=from_text(row["time"]),
        door=row["door"],
        decision=row["decision"],
        reason=row["reason"],
        message=row["message"],
        person_id=row["person_id"],
        person_name=row["person_name"],
        subject=row["subject"],
        distance=row["distance"],
        threshold=row["threshold"],
        model_id=row["model_id"],
        latency_ms=row["latency_ms"],
        has_snapshot=bool(row["snap"]),
    )


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)
