"""A door delivers its access events to the site server: each exactly once, however often a delivery
is retried, since every event carries a uid made where it was decided."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from psycopg import errors, sql

from faceguard.core.errors import ConflictError, InvalidInputError
from faceguard.site.columns import DELIVERED_COLUMNS
from faceguard.site.connection import SiteConnection, translate_errors

_INSERT_EVENT = sql.SQL("INSERT INTO access_events ({}) VALUES ({}) ON CONFLICT (event_uid) DO NOTHING").format(
    sql.SQL(", ").join(map(sql.Identifier, DELIVERED_COLUMNS)),
    sql.SQL(", ").join([sql.Placeholder()] * len(DELIVERED_COLUMNS)),
)
_INSERT_SNAPSHOT = sql.SQL(
    "INSERT INTO event_snapshots (event_uid, jpeg) VALUES (%s, %s) ON CONFLICT (event_uid) DO NOTHING"
)


def deliver_events(conn: SiteConnection, rows: Sequence[dict[str, Any]]) -> int:
    """Insert ``rows`` (``DELIVERED_COLUMNS``, absent ones NULL, and an optional ``snapshot``: sealed
    bytes bound to the event's uid) in one transaction, skipping the events the server already has;
    how many were new. Only rows of the connected door's own events are accepted (row-level security)."""
    if not rows:
        return 0
    for row in rows:
        missing = [column for column in ("event_uid", "kiosk_event_id") if row.get(column) is None]
        if missing:
            raise InvalidInputError(f"An access event to deliver has no {' or '.join(missing)}: {_brief(row)}.")
    events = [
        tuple({**row, "replica": row.get("replica") or ""}.get(column) for column in DELIVERED_COLUMNS) for row in rows
    ]
    snapshots = [(row["event_uid"], row["snapshot"]) for row in rows if row.get("snapshot") is not None]
    doors = sorted({str(row.get("door")) for row in rows})
    doing = f"deliver {len(rows)} access events of door {', '.join(doors)}"
    with translate_errors(conn, doing), _reused_ids_explained(doors), conn.transaction(), conn.cursor() as cursor:
        cursor.executemany(_INSERT_EVENT, events)
        new = cursor.rowcount
        if snapshots:
            cursor.executemany(_INSERT_SNAPSHOT, snapshots)
    return max(new, 0)


@contextlib.contextmanager
def _reused_ids_explained(doors: list[str]) -> Iterator[None]:
    """A kiosk event id of one replica the server holds under another uid: two kiosks deliver for one door
    from copies of one database file."""
    try:
        yield
    except errors.UniqueViolation as error:
        if error.diag.constraint_name != "access_events_door_replica_event":
            raise
        raise ConflictError(
            f"The site server already holds other events with the same ids from the same database of door "
            f"{', '.join(doors)} ({error.diag.message_detail or 'the same ids'}): two kiosks run on copies of one "
            "database file. Nothing of this delivery was saved; give each kiosk a database of its own."
        ) from None


def _brief(row: dict[str, Any]) -> str:
    return ", ".join(f"{key}={row.get(key)!r}" for key in ("door", "time", "decision") if key in row)
