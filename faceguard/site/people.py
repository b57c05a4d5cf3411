"""The admin's writes of people and their face templates on the site server, as the SQLite store makes
them: the same checks of each field, the same stored forms, the same sealing (so a kiosk's replica
opens a copied row), and erasure that leaves the delivered events only the person's pseudonym."""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterator
from typing import Any

import numpy as np
from psycopg import errors, sql

from faceguard.core.errors import ConflictError, NotFoundError
from faceguard.site.columns import PEOPLE_COLUMNS
from faceguard.site.connection import SiteConnection, translate_errors
from faceguard.site.event_log import redact_events
from faceguard.site.face_key import site_sealer
from faceguard.store.consent import CONSENT_VERSION
from faceguard.store.people import PERSON_FIELDS, _person_row
from faceguard.store.sealing import Sealer, template_row, thumbnail_row
from faceguard.store.templates import NewTemplate
from faceguard.store.timestamps import from_text, now, to_text

_SELECT_PEOPLE = sql.SQL(
    "SELECT {}, (SELECT count(*) FROM templates t WHERE t.person_id = p.id) AS templates FROM people p"
).format(sql.SQL(", ").join(sql.Identifier("p", column) for column in PEOPLE_COLUMNS))


def add_person(conn: SiteConnection, name: str, **details: Any) -> int:
    """Add a person without a face yet (details: the other ``PERSON_FIELDS``); their id."""
    return _enroll(conn, name, None, details)


def enroll(conn: SiteConnection, name: str, template: NewTemplate, **details: Any) -> int:
    """Add a person with their first face template (details: the other ``PERSON_FIELDS``); their id."""
    return _enroll(conn, name, template, details)


def _enroll(conn: SiteConnection, name: str, template: NewTemplate | None, details: dict[str, Any]) -> int:
    _check_fields(details, PERSON_FIELDS - {"name"})
    if details.get("consent_at") is not None:
        details = {"consent_version": CONSENT_VERSION, **details}
    stamp = to_text(now())
    row = {
        **_person_row({"name": name, "active": True, **details}),
        "pseudonym": f"P-{secrets.token_hex(8)}",
        "created": stamp,
        "updated": stamp,
    }
    with translate_errors(conn, f"enroll {row['name']}"), _badge_checked(conn, row), conn.transaction():
        inserted = conn.execute(
            sql.SQL("INSERT INTO people ({}) VALUES ({}) RETURNING id").format(
                sql.SQL(", ").join(map(sql.Identifier, row)), sql.SQL(", ").join(map(sql.Placeholder, row))
            ),
            row,
        ).fetchone()
        assert inserted is not None
        person_id = int(inserted["id"])
        if template is not None:
            _insert_template(conn, site_sealer(conn), person_id, template)
    return person_id


def add_template(conn: SiteConnection, person_id: int, template: NewTemplate) -> int:
    """Add a face template (another photo) to an existing person; its id."""
    with translate_errors(conn, f"add a photo to person {person_id}"), conn.transaction():
        _person(conn, person_id, lock=True)
        return _insert_template(conn, site_sealer(conn), person_id, template)


def update_person(conn: SiteConnection, person_id: int, **changes: Any) -> dict[str, Any]:
    """Change any of ``PERSON_FIELDS`` as the SQLite store does (consent_at=None withdraws the consent
    with its method and version; a rename keeps the name it replaces among the former names); the row."""
    _check_fields(changes, PERSON_FIELDS)
    if "consent_at" in changes and changes["consent_at"] is None:
        changes.setdefault("consent_method", None)
    if "consent_at" in changes:
        changes.setdefault("consent_version", None if changes["consent_at"] is None else CONSENT_VERSION)
    with translate_errors(conn, f"update person {person_id}"), conn.transaction():
        current = _fields(_person(conn, person_id, lock=True))
        row = _person_row({**current, **changes})
        renamed = row["name"] != current["name"]
        row["updated"] = to_text(now())
        with _badge_checked(conn, row), conn.transaction():
            conn.execute(
                sql.SQL("UPDATE people SET {} WHERE id = %(id)s").format(
                    sql.SQL(", ").join(
                        sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)) for column in row
                    )
                ),
                {**row, "id": person_id},
            )
        if renamed:  # events logged under the old name still say it: erasure must find it
            conn.execute(
                "INSERT INTO former_names (person_id, name) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                [person_id, current["name"]],
            )
            conn.execute("DELETE FROM former_names WHERE person_id = %s AND name = %s", [person_id, row["name"]])
        return _person(conn, person_id)


def remove_person(conn: SiteConnection, person_id: int) -> None:
    """Erase a person: their templates, thumbnails and former names go with them, and their events'
    snapshots; their events keep only the pseudonym (``redact_events``)."""
    with translate_errors(conn, f"erase person {person_id}"), conn.transaction():
        person = _person(conn, person_id, lock=True)
        former = conn.execute("SELECT name FROM former_names WHERE person_id = %s", [person_id]).fetchall()
        names = [person["name"], *(row["name"] for row in former)]
        redact_events(conn, person_id, names, person["pseudonym"])
        conn.execute("DELETE FROM people WHERE id = %s", [person_id])


def people(conn: SiteConnection) -> list[dict[str, Any]]:
    """Everyone: the ``people`` columns and ``templates``, how many face templates they have; by name."""
    return conn.execute(sql.SQL("{} ORDER BY lower(p.name), p.id").format(_SELECT_PEOPLE)).fetchall()


def _person(conn: SiteConnection, person_id: int, lock: bool = False) -> dict[str, Any]:
    query = sql.SQL("{} WHERE p.id = %s{}").format(_SELECT_PEOPLE, sql.SQL(" FOR UPDATE OF p" if lock else ""))
    row = conn.execute(query, [person_id]).fetchone()
    if row is None:
        raise NotFoundError(f"No person with id {person_id} is enrolled at the site.")
    return row


def _fields(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as the fields ``_person_row`` checks (times as datetimes, ``group``)."""
    fields = {field: row[field] for field in PERSON_FIELDS - {"group"}}
    fields["group"] = row["group_name"]
    for field in ("valid_from", "valid_until", "consent_at"):
        fields[field] = from_text(row[field])
    return fields


def _check_fields(values: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"Unknown person fields: {', '.join(sorted(unknown))}.")


@contextlib.contextmanager
def _badge_checked(conn: SiteConnection, row: dict[str, Any]) -> Iterator[None]:
    """Turn a taken badge number into a ConflictError naming its owner (as the SQLite store does)."""
    try:
        yield
    except errors.UniqueViolation as error:
        if "badge" not in str(error):
            raise
        owner = conn.execute("SELECT name FROM people WHERE badge = %s", [row["badge"]]).fetchone()
        raise ConflictError(
            f"Badge {row['badge']} already belongs to {owner['name'] if owner else 'someone else'}."
        ) from None


def _insert_template(conn: SiteConnection, sealer: Sealer, person_id: int, template: NewTemplate) -> int:
    """Store one template and its thumbnail, sealed as ``faceguard.store.templates`` seals them."""
    encoding = np.asarray(template.encoding, dtype="<f4").reshape(-1)
    if not np.isfinite(encoding).all():
        raise ValueError("A face encoding with non-finite values cannot be stored.")
    taken = conn.execute("SELECT nextval(pg_get_serial_sequence('templates', 'id')) AS id").fetchone()
    assert taken is not None
    template_id = int(taken["id"])  # taken first: the sealed encoding is bound to it
    conn.execute(
        "INSERT INTO templates (id, person_id, model_id, encoding, quality, source, created)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        [
            template_id,
            person_id,
            template.model_id,
            sealer.seal(encoding.tobytes(), template_row(template_id, person_id)),
            json.dumps(template.quality),
            template.source,
            to_text(now()),
        ],
    )
    conn.execute(
        "INSERT INTO template_thumbnails (template_id, jpeg, landmarks) VALUES (%s, %s, %s)",
        [
            template_id,
            sealer.seal(template.thumbnail.jpeg, thumbnail_row(template_id)),
            json.dumps(np.round(template.thumbnail.landmarks, 2).tolist()),
        ],
    )
    return template_id
