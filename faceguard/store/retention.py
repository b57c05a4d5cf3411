"""Retention: face snapshots and access-log entries older than the site's limits are deleted.

The defaults follow the storage-limitation principle (GDPR art. 5(1)(e)) with the French regulator's
figures, the most specific published for such systems:

- ``SNAPSHOT_DAYS`` = 30: a snapshot is a camera image of a face, which the CNIL allows to keep a
  month at most (Luxembourg's CNPD: 8 days as a rule, 30 when justified). A month still lets an
  administrator look into a complaint or an incident reported weeks later.
- ``EVENT_DAYS`` = 90: the CNIL's rules for access control at work (simplified norm 42 for badges, the
  2006 single authorisation for biometric readers) keep records of people's comings and goings three
  months at most. A year, often suggested, has no such basis; a site that must keep more can say so.

Snapshots older than their limit are deleted with nothing else. Events are removed as the oldest part
of the hash chain (``faceguard.store.chain``): every entry up to the last event older than the limit,
so the rest still verifies from the hash of the last entry removed, which a chained admin action
(``chain.CUT_ACTION``) records with the counts. That part is checked first, and any sign of tampering
in it goes into the same record, so a purge never hides one. Admin actions in that part are kept (they
say who enrolled, changed or erased whom, hold no one's comings and goings, and are few): they are
chained again after the cut, with their own times.

Deleted rows are zeroed (``secure_delete``) and the write-ahead log is emptied afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlite_utils

from faceguard.core.errors import InvalidInputError
from faceguard.store import chain
from faceguard.store.admin_log import log_admin_action
from faceguard.store.base import StoreBase, guarded
from faceguard.store.chain_audit import verify_chain
from faceguard.store.db import wipe_deleted, write_transaction
from faceguard.store.timestamps import now, to_text

SNAPSHOT_DAYS = 30
EVENT_DAYS = 90
#: The longest limit a site may set (ten years).
MAX_DAYS = 3650


def check_days(days: int, what: str) -> int:
    """``days`` if it is a retention limit FaceGuard accepts (InvalidInputError naming ``what`` otherwise)."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InvalidInputError(f"{what} must be kept between 1 and {MAX_DAYS} days, got {days!r}.")
    return days


@dataclass(frozen=True)
class Purge:
    """What a purge deleted (or, for a dry run, would delete): snapshots by age (those of removed events
    included), events, admin actions chained again, and the last chain position removed (None: no event)."""

    snapshots: int
    events: int
    admin_actions: int
    through: int | None
    snapshots_before: datetime
    events_before: datetime
    dry_run: bool = False
    wiped: bool = True  # the write-ahead log was emptied afterwards (False: a reader held it; see wipe_deleted)


class Retention(StoreBase):
    """Deleting what is older than the site's retention limits."""

    @guarded
    def purge_expired(
        self,
        snapshot_days: int = SNAPSHOT_DAYS,
        event_days: int = EVENT_DAYS,
        at: datetime | None = None,
        dry_run: bool = False,
    ) -> Purge:
        """Delete face snapshots older than ``snapshot_days`` and events older than ``event_days`` (as of
        ``at``, default now), in one write transaction; only counts with ``dry_run``. Reads only when
        nothing is due, so a kiosk may call it often."""
        moment = at or now()
        snapshots_before = moment - timedelta(days=check_days(snapshot_days, "Face snapshots"))
        events_before = moment - timedelta(days=check_days(event_days, "Access events"))
        limits = to_text(snapshots_before), to_text(events_before)
        nothing = Purge(0, 0, 0, None, snapshots_before, events_before, dry_run=dry_run)
        if not self._due(*limits):
            return nothing
        if dry_run:
            plan = _plan(self.db, *limits)
            return Purge(*plan.counts(self.db), plan.through, snapshots_before, events_before, dry_run=True)
        with write_transaction(self.db):
            plan = _plan(self.db, *limits)
            counts = plan.counts(self.db)
            if not counts[0] and plan.through is None:  # only events that wait behind newer ones
                return nothing
            _execute(self.db, self.path, plan, counts)
        return Purge(*counts, plan.through, snapshots_before, events_before, wiped=wipe_deleted(self.db))

    def _due(self, snapshots_before: str, events_before: str) -> bool:
        """Whether an event or a snapshot is older than its limit (through the events' time index)."""
        sql = (
            "SELECT EXISTS (SELECT 1 FROM access_events WHERE time < ?)"
            " OR EXISTS (SELECT 1 FROM access_events e WHERE e.time < ?"
            " AND EXISTS (SELECT 1 FROM event_snapshots s WHERE s.event_id = e.id))"
        )
        return bool(self.db.execute(sql, [events_before, snapshots_before]).fetchone()[0])


@dataclass(frozen=True)
class _Plan:
    """The chain positions to remove (``after`` < seq <= ``through``; none when ``through`` is None)
    and the times before which snapshots and events go."""

    after: int
    through: int | None
    snapshots_before: str
    events_before: str

    def counts(self, db: sqlite_utils.Database) -> tuple[int, int, int]:
        """(snapshots, events, admin actions) the plan deletes or chains again."""
        snapshots = db.execute(
            f"SELECT count(*) FROM event_snapshots WHERE event_id IN ({_OLD_EVENTS}) OR event_id IN ({_REMOVED})",
            [self.snapshots_before, self.after, self.through or 0, chain.ACCESS],
        ).fetchone()[0]
        events, admin = (
            db.execute(
                f"SELECT count(*) FROM {table} WHERE id IN ({_REMOVED})", [self.after, self.through or 0, kind]
            ).fetchone()[0]
            for table, kind in (("access_events", chain.ACCESS), ("admin_events", chain.ADMIN))
        )
        return snapshots, events, admin


_OLD_EVENTS = "SELECT id FROM access_events WHERE time < ?"
_REMOVED = "SELECT record_id FROM log_chain WHERE seq > ? AND seq <= ? AND kind = ?"


def _plan(db: sqlite_utils.Database, snapshots_before: str, events_before: str) -> _Plan:
    """Where the chain is cut: after the last event entry that precedes every event kept (events are
    logged in time order, give or take a clock step, so an event that is older than the limit but
    follows a newer one waits for the next purge)."""
    after = max((cut.through for cut in chain.cuts(db)), default=0)
    first_kept = db.execute(
        "SELECT min(c.seq) FROM log_chain c JOIN access_events e ON e.id = c.record_id"
        " WHERE c.kind = ? AND c.seq > ? AND e.time >= ?",
        [chain.ACCESS, after, events_before],
    ).fetchone()[0]
    through = db.execute(
        "SELECT max(c.seq) FROM log_chain c JOIN access_events e ON e.id = c.record_id"
        " WHERE c.kind = ? AND c.seq > ? AND c.seq < ? AND e.time < ?",
        [chain.ACCESS, after, 2**63 - 1 if first_kept is None else first_kept, events_before],
    ).fetchone()[0]
    return _Plan(after, through, snapshots_before, events_before)


def _execute(db: sqlite_utils.Database, path: Path, plan: _Plan, counts: tuple[int, int, int]) -> None:
    """Carry out ``plan`` in the caller's write transaction and record it in the admin log."""
    snapshots, events, _ = counts
    details: dict[str, object] = {"snapshots": snapshots, "snapshots_before": plan.snapshots_before}
    db.execute(f"DELETE FROM event_snapshots WHERE event_id IN ({_OLD_EVENTS})", [plan.snapshots_before])
    if plan.through is not None:
        found = verify_chain(db, path, through=plan.through).findings
        removed = [plan.after, plan.through]
        admin_ids = [row[0] for row in db.execute(f"{_REMOVED} ORDER BY seq", [*removed, chain.ADMIN])]
        details |= {
            "events_before": plan.events_before,
            "through": plan.through,
            "last_hash": chain.entry_hash(db, plan.through),
            "events": events,
            "admin_actions": len(admin_ids),
            "found": [[finding.kind, finding.text, finding.seq] for finding in found],
        }
        db.execute(f"DELETE FROM access_events WHERE id IN ({_REMOVED})", [*removed, chain.ACCESS])
        db.execute("DELETE FROM log_chain WHERE seq > ? AND seq <= ?", removed)
        for record_id in admin_ids:
            chain.append(db, chain.ADMIN, record_id)
    log_admin_action(db, chain.CUT_ACTION, None, **details)
