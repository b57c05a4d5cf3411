"""Access events decided but not yet in the access log, kept until they are: across restarts of the
kiosk's engine, and across a close of the kiosk.

``PendingEvents`` is the queue a kiosk hands to each engine it starts. When the kiosk closes while the
log cannot be written (the file locked by another program, the disk full, the file moved away),
``spill`` seals what is left into ``<database>.unwritten`` beside the database (AES-256-GCM with this
computer's face data key, as the snapshots in the file are; 0600), and the next kiosk on that file takes
them back with ``PendingEvents.restored`` and writes them, in order and with their own times. A kiosk
killed outright still loses what it held in memory.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
from collections import deque
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from faceguard.access.policy import Decision, Outcome, PersonStatus
from faceguard.core.errors import FaceGuardError, StoreError
from faceguard.core.private_files import private_opener
from faceguard.store import keys
from faceguard.store.access_log import log_decision
from faceguard.store.events import LivenessRecord
from faceguard.store.repository import Store
from faceguard.store.sealing import Sealer

log = logging.getLogger(__name__)

#: Events kept waiting at most; beyond, the oldest are dropped (and counted) for the newest.
MAX_UNLOGGED = 10_000
#: Milliseconds a closing kiosk waits for the log (another program's lock) before spilling what is left.
CLOSE_WAIT_MS = 2_000
SPILL_FORMAT = 1
#: What reading a spill file raises when it is not one this computer can open.
READ_ERRORS = (FaceGuardError, OSError, ValueError, KeyError, TypeError)


@dataclass(frozen=True)
class UnwrittenEvent:
    """One decision with everything its access-log row needs."""

    decision: Decision
    door: str
    model_id: str
    latency_ms: float
    snapshot: bytes
    liveness: LivenessRecord | None
    door_action: str | None

    def write(self, store: Store) -> int:
        return log_decision(
            store,
            self.decision,
            door=self.door,
            model_id=self.model_id,
            latency_ms=self.latency_ms,
            snapshot=self.snapshot,
            liveness=self.liveness,
            door_action=self.door_action,
        )


class PendingEvents:
    """The access events not yet written, oldest first. Its lock keeps two writers (a stuck engine
    waking up beside its replacement, the kiosk closing) from writing the same event twice."""

    def __init__(self, limit: int = MAX_UNLOGGED) -> None:
        self.events: deque[UnwrittenEvent] = deque(maxlen=limit)
        self.lock = threading.Lock()
        self.dropped = 0  # the oldest events pushed out by newer ones while the log cannot be written

    @classmethod
    def restored(cls, db_path: Path) -> PendingEvents:
        """A queue holding the events a kiosk closed on ``db_path`` left unwritten (the spill file is
        then removed: they are in memory, and spilled again if this kiosk cannot write them either)."""
        pending = cls()
        path = spill_path(db_path)
        if not path.exists():
            return pending
        try:
            pending.events.extend(_read_spill(path, db_path))
        except READ_ERRORS as error:
            log.error("The unwritten access events in %s cannot be read (%s); the file is kept.", path, error)
            return pending
        path.unlink()
        log.warning("%d access event(s) left unwritten at the last close are written now.", len(pending))
        return pending

    def add(self, event: UnwrittenEvent) -> None:
        if len(self.events) == self.events.maxlen:
            self.dropped += 1
            log.error(
                "The access event of %s is dropped unwritten: %d newer ones wait.",
                self.events[0].decision.time,
                len(self),
            )
        self.events.append(event)

    def write(self, store: Store) -> str | None:
        """Write the queued events while the log takes them, oldest first; the problem that stopped
        it, if one did. The caller holds ``lock``."""
        while self.events:
            try:
                self.events[0].write(store)
            except StoreError as error:
                return f"The access log cannot be written: {error}"
            self.events.popleft()
        return None

    def keep(self, db_path: Path, wait_ms: int = CLOSE_WAIT_MS) -> Path | None:
        """At the kiosk's close: write what is left to the log on ``db_path`` (waiting up to ``wait_ms``
        for another program's lock), and ``spill`` what still cannot be written; the spill file's path,
        if one was written. Gives up after ``CLOSE_WAIT_MS`` if a stuck engine holds the queue."""
        if not self.lock.acquire(timeout=CLOSE_WAIT_MS / 1000):
            log.error("%d access event(s) are held by a stuck engine and are lost at close.", len(self))
            return None
        try:
            if self.events:
                with contextlib.suppress(StoreError), Store.open(db_path, create=False) as store:
                    store.set_busy_timeout(wait_ms)
                    self.write(store)
            return self.spill(db_path)
        except OSError as error:
            log.error("%d access event(s) are lost at close: %s cannot be written (%s).", len(self), db_path, error)
            return None
        finally:
            self.lock.release()

    def spill(self, db_path: Path) -> Path | None:
        """Seal the events left into the spill file beside ``db_path`` (added to one already there);
        its path, or None when there was nothing to keep. The caller holds ``lock``."""
        if not self.events:
            return None
        path = spill_path(db_path)
        earlier = _earlier_spill(path, db_path)
        sealer = Sealer(keys.current_key())
        rows = [_to_json(event) for event in [*earlier, *self.events]]
        sealed = sealer.seal(json.dumps(rows).encode(), _associated_data(db_path))
        record = {"format": SPILL_FORMAT, "key_id": sealer.key_id, "sealed": base64.b64encode(sealed).decode()}
        partial = path.with_name(path.name + ".partial")
        with open(partial, "w", encoding="utf-8", opener=private_opener) as file:
            json.dump(record, file)
        partial.replace(path)
        log.error("%d access event(s) could not be written before closing; kept in %s.", len(rows), path)
        self.events.clear()
        return path

    def __len__(self) -> int:
        return len(self.events)


def spill_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".unwritten")


def _associated_data(db_path: Path) -> bytes:
    return b"unwritten access events of " + db_path.name.encode()


def _earlier_spill(path: Path, db_path: Path) -> list[UnwrittenEvent]:
    """The events already spilled at ``path``; one that does not read (another key, damage) is moved
    aside whole, with a time stamp, for an administrator, so the events of this close are still kept."""
    if not path.exists():
        return []
    try:
        return _read_spill(path, db_path)
    except READ_ERRORS as error:
        aside = path.with_name(f"{path.name}.{datetime.now().strftime('%Y%m%d-%H%M%S')}.unreadable")
        path.replace(aside)
        log.error("The unwritten access events in %s cannot be read (%s); moved to %s.", path, error, aside)
        return []


def _read_spill(path: Path, db_path: Path) -> list[UnwrittenEvent]:
    record = json.loads(path.read_text(encoding="utf-8"))
    if record.get("format") != SPILL_FORMAT:
        raise ValueError(f"format {record.get('format')!r} is not known to this FaceGuard")
    sealer = Sealer(keys.find_key(record["key_id"], path))
    plain = sealer.open(base64.b64decode(record["sealed"]), _associated_data(db_path))
    return [_from_json(row) for row in json.loads(plain)]


def _to_json(event: UnwrittenEvent) -> dict[str, Any]:
    decision = event.decision
    return {
        "outcome": decision.outcome.value,
        "time": decision.time.isoformat(),
        "track_id": decision.track_id,
        "person": None if decision.person is None else asdict(decision.person),
        "distance": decision.distance,
        "threshold": decision.threshold,
        "message": decision.message,
        "door": event.door,
        "model_id": event.model_id,
        "latency_ms": event.latency_ms,
        "snapshot": base64.b64encode(event.snapshot).decode(),
        "liveness": None if event.liveness is None else asdict(event.liveness),
        "door_action": event.door_action,
    }


def _from_json(row: dict[str, Any]) -> UnwrittenEvent:
    decision = Decision(
        Outcome(row["outcome"]),
        datetime.fromisoformat(row["time"]),
        row["track_id"],
        None if row["person"] is None else PersonStatus(**row["person"]),
        row["distance"],
        row["threshold"],
        row["message"],
    )
    liveness = None if row["liveness"] is None else LivenessRecord(**row["liveness"])
    return UnwrittenEvent(
        decision,
        row["door"],
        row["model_id"],
        row["latency_ms"],
        base64.b64decode(row["snapshot"]),
        liveness,
        row["door_action"],
    )
