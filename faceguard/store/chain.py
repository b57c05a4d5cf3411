"""The tamper-evident log: every access event and admin action is an entry of one hash chain.

``log_chain`` holds one row per record, in the order they were written (``seq``, never reused):

- ``digest`` = SHA-256 of the record's canonical serialization: the compact UTF-8 JSON array
  ``["faceguard-chain", FORMAT, kind, record id, *HASHED_COLUMNS[kind]]`` (floats in Python's shortest
  round-trip form, a blob as ``{"blob": hex}``);
- ``hash`` = SHA-256 of the previous entry's hash followed by this digest (both as 32 raw bytes); the first
  entry's previous hash is ``GENESIS``, 32 zero bytes.

Both are stored as lowercase hex text, so an auditor can recompute them with any SHA-256 tool.

Retention (``faceguard.store.retention``) removes the oldest entries with their records: the chain then
starts at a later position. Each such cut is an admin action of its own, ``CUT_ACTION``, chained like
any other, whose details give the last position removed (``through``), that entry's hash
(``last_hash``: the first entry kept follows it) and what a check of the removed entries found
(``found``: [kind, text, position] of each sign of tampering, so a purge never hides one).

Only what never changes legitimately is hashed: an event's pseudonym (``subject``), not its person_id or
the person's name, which erasure removes; not its snapshot, which erasure and retention delete. The one
hashed value erasure changes, the name in an event's message, is rewritten through a redaction listed
in the chained record of the erasure (``faceguard.store.redaction``), so an entry's digest stays that
of the record as it was written.

The entry is written in the record's own write transaction, whose ``BEGIN IMMEDIATE`` serialises the
kiosks sharing the file, so the previous hash read here is the one the entry follows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

#: The serialization format of new entries (each entry records its own).
FORMAT = 1
#: The previous hash of the first entry (hex of 32 zero bytes).
GENESIS = "00" * 32
ACCESS, ADMIN = "access", "admin"
#: The table of each kind of record.
TABLES = {ACCESS: "access_events", ADMIN: "admin_events"}
#: The columns of each kind that the digest covers, in serialization order.
HASHED_COLUMNS = {
    ACCESS: (
        "time",
        "door",
        "decision",
        "reason",
        "message",
        "subject",
        "distance",
        "threshold",
        "model_id",
        "latency_ms",
        "liveness",
        "liveness_passed",
        "live_score",
        "liveness_motion",
        "door_action",
    ),
    ADMIN: ("time", "action", "subject", "details"),
}


#: The admin action that records a cut of the chain's oldest entries.
CUT_ACTION = "log_purged"


@dataclass(frozen=True)
class Cut:
    """One cut, as its admin action records it: entries up to ``through`` were removed on ``time``;
    ``last_hash`` is the hash of the last one; ``found``: (kind, text, position) of each sign of
    tampering a check of the removed entries found."""

    time: str
    through: int
    last_hash: str
    found: tuple[tuple[str, str, int | None], ...]


def cuts(db: sqlite_utils.Database) -> list[Cut]:
    """Every cut recorded in the admin log, oldest first. A purge of snapshots alone records no cut;
    details someone edited out of shape are passed over (the check of their entry reports the edit)."""
    found = []
    for time, details in db.execute(
        "SELECT time, details FROM admin_events WHERE action = ? ORDER BY id", [CUT_ACTION]
    ).fetchall():
        try:
            values = json.loads(details)
            found.append(
                Cut(
                    str(time),
                    int(values["through"]),
                    str(values["last_hash"]),
                    tuple((str(kind), str(text), seq) for kind, text, seq in values.get("found", [])),
                )
            )
        except (ValueError, TypeError, KeyError):
            continue
    return found


def record_digest(kind: str, record_id: int, values: Sequence[Any]) -> str:
    """The hex SHA-256 of a record's canonical serialization (``values``: its HASHED_COLUMNS)."""
    text = json.dumps(
        ["faceguard-chain", FORMAT, kind, record_id, *values],
        ensure_ascii=False,
        separators=(",", ":"),
        default=_blob,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def link(previous: str, digest: str) -> str:
    """The hex hash of an entry: SHA-256 of the previous entry's hash and this entry's digest."""
    return hashlib.sha256(bytes.fromhex(previous) + bytes.fromhex(digest)).hexdigest()


def select_hashed(kind: str) -> str:
    """SQL selecting ``id`` and the hashed columns of every record of ``kind``."""
    return f"SELECT id, {', '.join(HASHED_COLUMNS[kind])} FROM {TABLES[kind]}"


def append(db: sqlite_utils.Database, kind: str, record_id: int) -> None:
    """Chain the record just written; call it inside that record's write transaction."""
    values = db.execute(f"{select_hashed(kind)} WHERE id = ?", [record_id]).fetchone()
    _insert(db, _head(db), [(kind, values)])


def append_all(db: sqlite_utils.Database, kind: str) -> None:
    """Chain every record of ``kind`` in id order (the back-fill of a database from before the chain)."""
    _insert(db, _head(db), ((kind, values) for values in db.execute(f"{select_hashed(kind)} ORDER BY id")))


def entry_hash(db: sqlite_utils.Database, seq: int) -> str:
    """The hash of the entry at chain position ``seq``."""
    return str(db.execute("SELECT hash FROM log_chain WHERE seq = ?", [seq]).fetchone()[0])


def _head(db: sqlite_utils.Database) -> str:
    row = db.execute("SELECT hash FROM log_chain ORDER BY seq DESC LIMIT 1").fetchone()
    return GENESIS if row is None else str(row[0])


def _insert(db: sqlite_utils.Database, previous: str, records: Iterable[tuple[str, Sequence[Any]]]) -> None:
    def entries() -> Iterable[tuple[str, int, int, str, str]]:
        nonlocal previous
        for kind, (record_id, *values) in records:
            digest = record_digest(kind, record_id, values)
            previous = link(previous, digest)
            yield kind, record_id, FORMAT, digest, previous

    db.conn.executemany(
        "INSERT INTO log_chain (kind, record_id, format, digest, hash) VALUES (?, ?, ?, ?, ?)", entries()
    )


def _blob(value: object) -> object:
    if isinstance(value, bytes):
        return {"blob": value.hex()}
    raise TypeError(f"{type(value).__name__} values cannot be chained")
