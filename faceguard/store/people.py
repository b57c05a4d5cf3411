"""The people table: who is enrolled, their badge, access group, validity and consent.

A person is in at most one access group, ``group_name`` (as an access panel's access level): the name
of a group of ``faceguard.store.door_rules_table``, or free text while no group is defined."""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from faceguard.access.policy import PersonStatus
from faceguard.core.errors import ConflictError, InvalidInputError, NotFoundError
from faceguard.store.admin_log import log_admin_action
from faceguard.store.base import StoreBase, guarded, inserted_id
from faceguard.store.consent import CONSENT_VERSION, check_version, keep_notice
from faceguard.store.db import wipe_deleted, write_transaction
from faceguard.store.redaction import REDACTING_ACTION, redact_events
from faceguard.store.timestamps import from_text, now, to_text

#: One ``Store.status_rows`` row: id, name, active 0/1, valid_from and valid_until in epoch seconds, group.
StatusRow = tuple[int, str, int, float | None, float | None, str | None]


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
    consent_version: str | None = None  # the consent notice agreed to (``faceguard.store.consent``)

    def status(self) -> PersonStatus:
        """What the access policy needs to know about this person."""
        return _status(self.id, self.name, self.active, self.valid_from, self.valid_until, self.group)


#: What ``enroll``, ``add_person`` and ``update_person`` take (``group`` is the column ``group_name``); a
#: site server's admin writes take the same (``faceguard.site.people``).
PERSON_FIELDS = frozenset(
    {
        "name",
        "badge",
        "group",
        "active",
        "valid_from",
        "valid_until",
        "notes",
        "consent_at",
        "consent_method",
        "consent_version",
    }
)
_PERSON_SELECT = """
    SELECT p.*, (SELECT count(*) FROM templates t WHERE t.person_id = p.id) AS template_count
    FROM people p
"""


class PeopleTable(StoreBase):
    """Reads and writes of the people table (their templates are ``TemplatesTable``'s)."""

    @guarded
    def add_person(self, name: str, **details: Any) -> Person:
        """Add a person without a template yet (details as for ``enroll``)."""
        with write_transaction(self.db):
            person_id = self._insert_person(name, details)
        return self.person(person_id)

    @guarded
    def update_person(self, person_id: int, **changes: Any) -> Person:
        """Change any of name, badge, group, active, valid_from, valid_until, notes, consent_at,
        consent_method, consent_version (consent_at=None withdraws the recorded consent, and its method
        and version with it; a new consent_at is under the current notice unless a version is named)."""
        unknown = set(changes) - PERSON_FIELDS
        if unknown:
            raise ValueError(f"Unknown person fields: {', '.join(sorted(unknown))}.")
        if "consent_at" in changes and changes["consent_at"] is None:
            changes.setdefault("consent_method", None)
        if "consent_at" in changes:
            changes.setdefault("consent_version", None if changes["consent_at"] is None else CONSENT_VERSION)
        with write_transaction(self.db):
            current = self.person(person_id)
            before = _person_row({f: getattr(current, f) for f in PERSON_FIELDS})
            row = _person_row({**{f: getattr(current, f) for f in PERSON_FIELDS}, **changes})
            edited = sorted(column for column in row if row[column] != before[column])
            row["updated"] = to_text(now())
            _keep_notice(self.db, row)
            assignments = ", ".join(f"{column} = :{column}" for column in row)
            self._execute_checked(f"UPDATE people SET {assignments} WHERE id = :id", {**row, "id": person_id})
            if "name" in edited:  # events logged under it still name them: erasure must find it
                self.db.execute(
                    "INSERT OR IGNORE INTO former_names (person_id, name) VALUES (?, ?)", [person_id, current.name]
                )
                self.db.execute("DELETE FROM former_names WHERE person_id = ? AND name = ?", [person_id, row["name"]])
            if edited == ["active"]:
                action = "person_activated" if row["active"] else "person_deactivated"
                log_admin_action(self.db, action, current.pseudonym)
            elif edited:
                log_admin_action(self.db, "person_edited", current.pseudonym, fields=edited)
        return self.person(person_id)

    def set_active(self, person_id: int, active: bool) -> Person:
        return self.update_person(person_id, active=active)

    @guarded
    def remove_person(self, person_id: int) -> Person:
        """Erase a person: their templates, thumbnails and event snapshots go; their events keep
        only the pseudonym, so the log stays complete without naming them: their name in their messages,
        and any name they had before, becomes the pseudonym too, listed in the chained record of the
        erasure (``redact_events``).

        Deleted rows are overwritten with zeros (``secure_delete``), and the write-ahead log, which
        still holds the pages as they were, is then copied into the file and emptied
        (``wipe_deleted``), so no face or encoding of theirs is left in either."""
        with write_transaction(self.db):
            person = self.person(person_id)
            snapshots = self.db.execute(
                "DELETE FROM event_snapshots WHERE event_id IN (SELECT id FROM access_events WHERE person_id = ?)",
                [person_id],
            ).rowcount
            redacted = redact_events(self.db, person_id, [person.name, *self.former_names(person_id)], person.pseudonym)
            self.db.execute("DELETE FROM people WHERE id = ?", [person_id])
            details: dict[str, Any] = {"templates": person.templates, "snapshots": snapshots}
            if redacted:
                details["redacted"] = redacted
            log_admin_action(self.db, REDACTING_ACTION, person.pseudonym, **details)
        wipe_deleted(self.db)
        return person

    @guarded
    def former_names(self, person_id: int) -> list[str]:
        """The names the person had before they were renamed (kept so erasure finds them in old events)."""
        rows = self.db.execute("SELECT name FROM former_names WHERE person_id = ? ORDER BY rowid", [person_id])
        return [row[0] for row in rows]

    @guarded
    def person(self, person_id: int) -> Person:
        rows = self._people_where("p.id = ?", [person_id])
        if not rows:
            raise NotFoundError(f"No person with id {person_id} is enrolled.")
        return rows[0]

    @guarded
    def person_by_badge(self, badge: str) -> Person:
        rows = self._people_where("p.badge = ?", [badge.strip()])
        if not rows:
            raise NotFoundError(f"Nobody enrolled has the badge {badge}. See: faceguard people list")
        return rows[0]

    @guarded
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

    @guarded
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

    @guarded
    def status_rows(self, person_ids: Iterable[int] | None = None) -> list[StatusRow]:
        """(id, name, active 0/1, valid_from, valid_until epoch seconds, group) of everyone (or of ``person_ids``):
        the lean read a gallery makes at start-up. ``status_from_row`` turns a row into a PersonStatus
        (100k dataclass instances would cost ~90 ms; the gallery builds one only for a matched face)."""
        # SQL turns the stored ISO times into epoch seconds (whole seconds + milliseconds, exact):
        # parsing 100k of them in Python would double the gallery's start-up time.
        epoch = "strftime('%s', {0}) + substr({0}, 21, 3) / 1000.0"
        sql = (
            f"SELECT id, name, active, {epoch.format('valid_from')}, {epoch.format('valid_until')}, group_name"
            " FROM people"
        )
        params: list[Any] = []
        if person_ids is not None:
            sql += " WHERE id IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(sorted(person_ids)))
        rows: list[StatusRow] = self.db.execute(sql, params).fetchall()
        return rows

    def _insert_person(self, name: str, details: dict[str, Any]) -> int:
        unknown = set(details) - (PERSON_FIELDS - {"name"})
        if unknown:
            raise ValueError(f"Unknown person fields: {', '.join(sorted(unknown))}.")
        if details.get("consent_at") is not None:
            details = {"consent_version": CONSENT_VERSION, **details}
        stamp = to_text(now())
        row = {
            **_person_row({"name": name, "active": True, **details}),
            "pseudonym": f"P-{secrets.token_hex(8)}",
            "created": stamp,
            "updated": stamp,
        }
        _keep_notice(self.db, row)
        columns = ", ".join(row)
        cursor = self._execute_checked(
            f"INSERT INTO people ({columns}) VALUES ({', '.join(':' + c for c in row)})", row
        )
        person_id = inserted_id(cursor)
        log_admin_action(self.db, "person_added", row["pseudonym"])
        return person_id

    def _execute_checked(self, sql: str, params: dict[str, Any]) -> sqlite3.Cursor:
        """Run a people INSERT/UPDATE, turning a taken badge number into a ConflictError."""
        try:
            cursor: sqlite3.Cursor = self.db.execute(sql, params)
        except sqlite3.IntegrityError as error:
            if "people.badge" in str(error):
                owner = self.db.execute("SELECT name FROM people WHERE badge = ?", [params["badge"]]).fetchone()
                raise ConflictError(f"Badge {params['badge']} already belongs to {owner[0]}.") from error
            if "people.name" in str(error):
                raise InvalidInputError("A person's name cannot be empty.") from error
            raise
        return cursor

    def _people_where(self, where: str, params: list[Any]) -> list[Person]:
        rows = self._query(f"{_PERSON_SELECT} WHERE {where} ORDER BY p.name COLLATE NOCASE, p.id", params)
        return [_person(row) for row in rows]


def status_from_row(row: StatusRow) -> PersonStatus:
    """The PersonStatus of one ``Store.status_rows`` row."""
    person_id, name, active, valid_from, valid_until, group = row
    return PersonStatus(person_id, name, bool(active), valid_from, valid_until, group)


def _person_row(values: dict[str, Any]) -> dict[str, Any]:
    """The people columns of a person's fields, checked: a name, validity in order, consent with its time."""
    name = str(values["name"]).strip()
    if not name:
        raise InvalidInputError("A person's name cannot be empty.")
    valid_from, valid_until = values.get("valid_from"), values.get("valid_until")
    if valid_from and valid_until and to_text(valid_until) < to_text(valid_from):
        raise InvalidInputError("valid_until is before valid_from.")
    consent_at, consent_method = values.get("consent_at"), values.get("consent_method")
    if consent_method is not None and consent_at is None:
        raise InvalidInputError("A consent method needs the time consent was given (consent_at).")
    consent_version = values.get("consent_version")
    if consent_version is not None and consent_at is None:
        raise InvalidInputError("A consent notice version needs the time consent was given (consent_at).")
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
        "consent_version": None if consent_version is None else check_version(str(consent_version)),
    }


def _keep_notice(db: sqlite_utils.Database, row: dict[str, Any]) -> None:
    """Copy the text of the notice a stored consent is under into the database."""
    if row["consent_version"] is not None:
        keep_notice(db, row["consent_version"])


def _status(
    person_id: int,
    name: str,
    active: bool,
    valid_from: datetime | None,
    valid_until: datetime | None,
    group: str | None,
) -> PersonStatus:
    def epoch(moment: datetime | None) -> float | None:
        return None if moment is None else moment.timestamp()

    return PersonStatus(person_id, name, active, epoch(valid_from), epoch(valid_until), group)


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
        consent_version=row["consent_version"],
    )
