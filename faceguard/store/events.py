"""The access log: every decision at a door, with an optional face snapshot."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from faceguard.access.policy import DecisionWord
from faceguard.store import chain
from faceguard.store.base import StoreBase, guarded, inserted_id
from faceguard.store.db import write_transaction
from faceguard.store.sealing import snapshot_row
from faceguard.store.timestamps import from_text, now, to_text

#: The access log's decision words, in the order the schema's CHECK and the log's filters list them.
DECISIONS = tuple(word.value for word in DecisionWord)

_EVENT_SELECT = """
    SELECT e.*, p.name AS person_name, EXISTS (SELECT 1 FROM event_snapshots s WHERE s.event_id = e.id) AS snap
    FROM access_events e LEFT JOIN people p ON p.id = e.person_id
"""


@dataclass(frozen=True)
class AccessEvent:
    id: int
    time: datetime
    door: str | None
    decision: str  # one of DECISIONS
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
    liveness: str | None = None  # the mode checked: off, passive, active, both (None: before checks existed)
    liveness_passed: bool | None = None
    live_score: float | None = None  # the passive model's mean live probability
    liveness_motion: float | None = None  # the active challenge's head movement, in inter-eye distances
    door_action: str | None = None  # what the door output did: "unlocked 4 s", or why it did not open


@dataclass(frozen=True)
class LivenessRecord:
    """The liveness columns of one event: the mode checked, whether the face passed, the passive live
    score and the active head movement (None where the mode has no such check)."""

    mode: str | None
    passed: bool | None
    live_score: float | None
    motion: float | None

    def columns(self) -> tuple[str | None, int | None, float | None, float | None]:
        passed = None if self.passed is None else int(self.passed)
        return self.mode, passed, _float(self.live_score), _float(self.motion)


class EventsTable(StoreBase):
    """Appends to and reads of the access log."""

    @guarded
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
        liveness: LivenessRecord | None = None,
        door_action: str | None = None,
    ) -> int:
        """Append one access decision (with an optional JPEG face snapshot, the liveness checks' outcome
        and what the door output did) to the log and its hash chain; returns its id."""
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
        with write_transaction(self.db):
            subject = None
            if person_id is not None:  # a person erased since the decision is logged as nobody
                row = self.db.execute("SELECT pseudonym FROM people WHERE id = ?", [person_id]).fetchone()
                person_id, subject = (person_id, row[0]) if row else (None, None)
            cursor = self.db.execute(
                "INSERT INTO access_events (time, door, decision, reason, message, person_id, subject, distance,"
                " threshold, model_id, latency_ms, liveness, liveness_passed, live_score, liveness_motion,"
                " door_action, event_uid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    *(liveness or LivenessRecord(None, None, None, None)).columns(),
                    door_action,
                    uuid.uuid4().hex,
                ],
            )
            event_id = inserted_id(cursor)
            chain.append(self.db, chain.ACCESS, event_id)
            if snapshot is not None:
                sealed = self.sealer().seal(snapshot, snapshot_row(event_id))
                self.db.execute("INSERT INTO event_snapshots (event_id, jpeg) VALUES (?, ?)", [event_id, sealed])
        return event_id

    @guarded
    def events(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        person_id: int | None = None,
        decision: str | None = None,
        limit: int | None = None,
        newest_first: bool = True,
        subject: str | None = None,
        door: str | None = None,
    ) -> list[AccessEvent]:
        """Access events, filtered; ``subject`` finds an erased person's events by their pseudonym,
        ``door`` the events of one door (its exact name).
        ``limit`` keeps the first rows in the chosen order (the newest N when newest_first)."""
        clauses, params, order = [], [], "DESC" if newest_first else "ASC"
        for clause, value in [
            ("e.time >= ?", to_text(since)),
            ("e.time <= ?", to_text(until)),
            ("e.person_id = ?", person_id),
            ("e.decision = ?", decision),
            ("e.subject = ?", subject),
            ("e.door = ?", door),
        ]:
            if value is not None:
                clauses.append(clause)
                params.append(value)
        sql = f"{_EVENT_SELECT} WHERE {' AND '.join(clauses) or '1'} ORDER BY e.time {order}, e.id {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_event(row) for row in self._query(sql, params)]

    @guarded
    def event_doors(self) -> list[str]:
        """The doors named in the access log, sorted; one index lookup per door, however long the log."""
        rows = self.db.execute(
            "WITH RECURSIVE seen (door) AS (SELECT min(door) FROM access_events UNION ALL"
            " SELECT (SELECT min(door) FROM access_events WHERE door > seen.door) FROM seen WHERE door IS NOT NULL)"
            " SELECT door FROM seen WHERE door IS NOT NULL"
        )
        return [row[0] for row in rows]

    @guarded
    def event_snapshot(self, event_id: int) -> bytes | None:
        row = self.db.execute("SELECT jpeg FROM event_snapshots WHERE event_id = ?", [event_id]).fetchone()
        return None if row is None else self.sealer().open(row[0], snapshot_row(event_id))


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
        liveness=row["liveness"],
        liveness_passed=None if row["liveness_passed"] is None else bool(row["liveness_passed"]),
        live_score=row["live_score"],
        liveness_motion=row["liveness_motion"],
        door_action=row["door_action"],
    )


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)
