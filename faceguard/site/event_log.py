"""The access events the doors delivered: the admin's listing, and erasure's redaction of them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from psycopg import sql

from faceguard.site.columns import EVENT_COLUMNS
from faceguard.site.connection import SiteConnection
from faceguard.store.redaction import REDACTED_COLUMNS

_SELECT_EVENTS = sql.SQL(
    "SELECT {}, e.event_uid, e.kiosk_event_id, e.received,"
    " EXISTS (SELECT 1 FROM event_snapshots s WHERE s.event_uid = e.event_uid) AS has_snapshot FROM access_events e"
).format(sql.SQL(", ").join(sql.Identifier("e", column) for column in EVENT_COLUMNS))


def events(conn: SiteConnection, door: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """The delivered events (of ``door`` only when given), newest first (by time, then each door's own
    order); ``limit`` keeps the newest N. Each has its columns, ``event_uid``, ``kiosk_event_id``,
    ``received`` and ``has_snapshot``."""
    query = _SELECT_EVENTS
    params: list[Any] = []
    if door is not None:
        query = sql.SQL("{} WHERE e.door = %s").format(query)
        params.append(door)
    query = sql.SQL("{} ORDER BY e.time DESC, e.door, e.kiosk_event_id DESC").format(query)
    if limit is not None:
        query = sql.SQL("{} LIMIT {}").format(query, sql.Literal(int(limit)))
    return conn.execute(query, params).fetchall()


def events_after(conn: SiteConnection, seq: int, limit: int) -> list[dict[str, Any]]:
    """The next ``limit`` events received after position ``seq``, in that order: their columns,
    ``event_uid``, ``seq`` and ``snapshot`` (sealed to the uid; None without one)."""
    query = sql.SQL(
        "SELECT {}, e.event_uid, e.seq, s.jpeg AS snapshot FROM access_events e"
        " LEFT JOIN event_snapshots s ON s.event_uid = e.event_uid WHERE e.seq > %s ORDER BY e.seq LIMIT %s"
    ).format(sql.SQL(", ").join(sql.Identifier("e", column) for column in EVENT_COLUMNS))
    return conn.execute(query, [seq, limit]).fetchall()


def redact_events(conn: SiteConnection, person_id: int, names: Sequence[str], pseudonym: str) -> int:
    """In the erasure's transaction: delete the snapshots of the person's events, replace each whole-word
    occurrence of ``names`` (their name and former names) by ``pseudonym`` in the events' message, door
    and door action (as the SQLite store's erasure does), and unlink the events from the person (SQLite's
    ON DELETE SET NULL). How many events were rewritten."""
    conn.execute(
        "DELETE FROM event_snapshots WHERE event_uid IN (SELECT event_uid FROM access_events WHERE person_id = %s)",
        [person_id],
    )
    longest_first = sorted({name for name in names if name}, key=len, reverse=True)  # "Ada Lovelace" before "Ada"
    pattern = re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, longest_first))})(?!\w)")
    columns = sql.SQL(", ").join(map(sql.Identifier, REDACTED_COLUMNS))
    rewritten = 0
    rows = conn.execute(
        sql.SQL("SELECT event_uid, {} FROM access_events WHERE person_id = %s").format(columns), [person_id]
    ).fetchall()
    for row in rows:
        changed = {
            column: pattern.sub(pseudonym, row[column])
            for column in REDACTED_COLUMNS
            if isinstance(row[column], str) and pattern.search(row[column])
        }
        if changed:
            assignments = sql.SQL(", ").join(
                sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)) for column in changed
            )
            conn.execute(
                sql.SQL("UPDATE access_events SET {} WHERE event_uid = %(uid)s").format(assignments),
                {**changed, "uid": row["event_uid"]},
            )
            rewritten += 1
    conn.execute("UPDATE access_events SET person_id = NULL WHERE person_id = %s", [person_id])
    return rewritten
