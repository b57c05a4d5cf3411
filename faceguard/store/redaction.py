"""Redaction: erasure takes a person's name out of their access events without breaking the hash chain.

An event's message names the person as the kiosk showed it ("Access granted: Ada Lovelace.") and the
chain (``faceguard.store.chain``) hashes the message, so erasure cannot simply rewrite it. Instead, in
the erasure's own write transaction, every whole-word occurrence of the name in an event's free-text
columns (``REDACTED_COLUMNS``) becomes the person's pseudonym, and the chained ``person_erased`` admin
action lists each event rewritten with the digest of its record before and after:

    details["redacted"] = {"format": REDACTION_FORMAT, "events": [[event id, old digest, new digest], ...]}

A check of the chain (``faceguard.store.chain_audit``) accepts an event whose record no longer matches
its entry's digest if, and only if, such pairs lead from that digest to the record's current digest,
each listed by an admin action chained after the event whose own record and link are intact. A row
edited by hand has no such pair and is still reported; a listing forged into the file, or edited into
an existing action, breaks that action's own digest or link and is not trusted. An event that was
already edited before the erasure keeps being reported: its old digest is that of the edited record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from faceguard.core.errors import StoreError
from faceguard.store import chain

#: The format of the ``redacted`` listing that new erasures write.
REDACTION_FORMAT = 1
#: The admin action whose details list the events it redacted.
REDACTING_ACTION = "person_erased"
#: The hashed columns of an event that may hold a name: the message, the door's name, what the door did.
REDACTED_COLUMNS = ("message", "door", "door_action")


@dataclass(frozen=True)
class Redaction:
    """One event's record rewritten by the admin action at chain position ``seq``: its digest went
    from ``old`` to ``new``."""

    seq: int
    old: str
    new: str


def redact_events(
    db: sqlite_utils.Database, person_id: int, names: Sequence[str], pseudonym: str
) -> dict[str, Any] | None:
    """Replace each of ``names`` (the person's name and any they had before) by ``pseudonym`` in the
    person's events; call it inside the erasure's write transaction. Returns the ``redacted`` details
    for its admin action (None: no event named them)."""
    longest_first = sorted(set(names), key=len, reverse=True)  # "Ada Lovelace" before "Ada"
    pattern = re.compile(rf"(?<!\w)(?:{'|'.join(map(re.escape, longest_first))})(?!\w)")
    listed = []
    select = chain.select_hashed(chain.ACCESS)
    columns = [column for column in chain.HASHED_COLUMNS[chain.ACCESS] if column in REDACTED_COLUMNS]
    for record_id, *values in db.execute(f"{select} WHERE person_id = ? ORDER BY id", [person_id]).fetchall():
        row = dict(zip(chain.HASHED_COLUMNS[chain.ACCESS], values, strict=True))
        changed = {
            column: pattern.sub(pseudonym, row[column])
            for column in columns
            if isinstance(row[column], str) and pattern.search(row[column])
        }
        if not changed:
            continue
        assignments = ", ".join(f"{column} = ?" for column in changed)
        db.execute(f"UPDATE access_events SET {assignments} WHERE id = ?", [*changed.values(), record_id])
        new_values = db.execute(f"{select} WHERE id = ?", [record_id]).fetchone()[1:]
        listed.append(
            [
                record_id,
                chain.record_digest(chain.ACCESS, record_id, values),
                chain.record_digest(chain.ACCESS, record_id, new_values),
            ]
        )
    return {"format": REDACTION_FORMAT, "events": listed} if listed else None


def trusted_redactions(db: sqlite_utils.Database, start: str) -> dict[int, list[Redaction]]:
    """The redactions listed by intact chained admin actions, by event id, in chain order. An action is
    intact when its record matches its entry's digest and the entry follows the one before it (``start``,
    the hash the chain starts from, for the first). A listing in a format this FaceGuard does not know
    is a StoreError."""
    rows = db.execute(
        "SELECT c.seq, c.digest, c.hash, a.id, a.time, a.action, a.subject, a.details,"
        " (SELECT p.hash FROM log_chain p WHERE p.seq < c.seq ORDER BY p.seq DESC LIMIT 1)"
        " FROM admin_events a JOIN log_chain c ON c.kind = ? AND c.record_id = a.id"
        " WHERE a.action = ? ORDER BY c.seq",
        [chain.ADMIN, REDACTING_ACTION],
    ).fetchall()
    found: dict[int, list[Redaction]] = {}
    for seq, digest, hash_, record_id, *values, previous in rows:
        if chain.record_digest(chain.ADMIN, record_id, values) != digest:
            continue
        if chain.link(previous or start, digest) != hash_:
            continue
        for event_id, old, new in _listed(seq, values[-1]):
            found.setdefault(event_id, []).append(Redaction(seq, old, new))
    return found


def redacted_digest(redactions: Sequence[Redaction], seq: int, digest: str, actual: str) -> str:
    """``digest`` if the redactions chained after position ``seq`` lead from it to ``actual`` (the
    event's record as it is now), else ``actual``."""
    current = digest
    for redaction in redactions:
        if redaction.seq > seq and redaction.old == current:
            current = redaction.new
    return digest if current == actual else actual


def _listed(seq: int, details: str) -> list[tuple[int, str, str]]:
    """The (event id, old digest, new digest) an intact action's details list."""
    listing = json.loads(details).get("redacted")
    if not isinstance(listing, Mapping):
        return []
    if listing.get("format") != REDACTION_FORMAT:
        raise StoreError(
            f"The erasure at chain position {seq} lists its redacted events in format {listing.get('format')}, "
            "which this FaceGuard does not know; update FaceGuard."
        )
    return [(int(event_id), str(old), str(new)) for event_id, old, new in listing["events"]]
