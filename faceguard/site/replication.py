"""What a kiosk reads to keep its SQLite replica in step: the change log, and the rows of the people
who changed, column for column as the SQLite store holds them (face data still sealed).

Read the change log's position first, then the rows: a change committed in between is then both in the
rows and in the next ``changes_after``, never in neither.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from psycopg import sql

from faceguard.site.columns import FORMER_NAME_COLUMNS, PEOPLE_COLUMNS, TEMPLATE_COLUMNS, THUMBNAIL_COLUMNS
from faceguard.site.connection import SiteConnection


def last_change(conn: SiteConnection) -> int:
    """The change log's current position (0 before any change)."""
    row = conn.execute("SELECT coalesce(max(seq), 0) AS seq FROM changes").fetchone()
    return int(row["seq"]) if row else 0


def changes_after(conn: SiteConnection, seq: int) -> tuple[int, frozenset[int]]:
    """(the last position seen, the people changed) after position ``seq``; ``seq`` itself when none."""
    rows = conn.execute("SELECT seq, person_id FROM changes WHERE seq > %s ORDER BY seq", [seq]).fetchall()
    return (int(rows[-1]["seq"]) if rows else seq), frozenset(int(row["person_id"]) for row in rows)


def people_rows(conn: SiteConnection, person_ids: Collection[int] | None) -> list[dict[str, Any]]:
    """The ``people`` rows of ``person_ids`` (everyone when None), by id."""
    return _rows(conn, "people", PEOPLE_COLUMNS, "id", person_ids)


def template_rows(conn: SiteConnection, person_ids: Collection[int] | None) -> list[dict[str, Any]]:
    """The ``templates`` rows of ``person_ids`` (all when None), by id, each with its thumbnail's
    ``jpeg`` and ``landmarks`` (None when it has none)."""
    columns = sql.SQL(", ").join(
        [sql.Identifier("t", column) for column in TEMPLATE_COLUMNS]
        + [sql.Identifier("th", column) for column in THUMBNAIL_COLUMNS]
    )
    query = sql.SQL("SELECT {} FROM templates t LEFT JOIN template_thumbnails th ON th.template_id = t.id").format(
        columns
    )
    return _where_people(conn, query, sql.Identifier("t", "person_id"), person_ids, sql.Identifier("t", "id"))


def former_name_rows(conn: SiteConnection, person_ids: Collection[int] | None) -> list[dict[str, Any]]:
    """The ``former_names`` rows of ``person_ids`` (all when None), each person's in the order of their renames."""
    return _rows(conn, "former_names", FORMER_NAME_COLUMNS, "person_id", person_ids, order=("person_id", "position"))


def settings(conn: SiteConnection) -> dict[str, str]:
    """The site's settings (key → value as stored)."""
    return {row["key"]: row["value"] for row in conn.execute("SELECT key, value FROM settings ORDER BY key")}


def _rows(
    conn: SiteConnection,
    table: str,
    columns: tuple[str, ...],
    person_column: str,
    person_ids: Collection[int] | None,
    order: tuple[str, ...] = ("id",),
) -> list[dict[str, Any]]:
    query = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table))
    ordering = sql.SQL(", ").join(map(sql.Identifier, order))
    return _where_people(conn, query, sql.Identifier(person_column), person_ids, ordering)


def _where_people(
    conn: SiteConnection,
    query: sql.Composable,
    person_column: sql.Composable,
    person_ids: Collection[int] | None,
    order: sql.Composable,
) -> list[dict[str, Any]]:
    params: list[Any] = []
    if person_ids is not None:
        query = sql.SQL("{} WHERE {} = ANY(%s)").format(query, person_column)
        params.append(sorted(int(person_id) for person_id in person_ids))
    return conn.execute(sql.SQL("{} ORDER BY {}").format(query, order), params).fetchall()
