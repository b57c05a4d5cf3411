"""The access log as CSV: one format for ``faceguard events --csv`` and the admin window's export."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from faceguard.core.errors import FaceGuardError
from faceguard.core.private_files import private_opener
from faceguard.store.events import AccessEvent

EVENT_COLUMNS = (
    "time",
    "door",
    "decision",
    "reason",
    "person_id",
    "name",
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
    "message",
)


def event_csv_row(event: AccessEvent) -> list[Any]:
    """The values of EVENT_COLUMNS; the time in ISO 8601 with the local UTC offset."""
    return [
        event.time.astimezone().isoformat(timespec="milliseconds"),
        event.door,
        event.decision,
        event.reason,
        event.person_id,
        event.person_name,
        event.subject,
        event.distance,
        event.threshold,
        event.model_id,
        event.latency_ms,
        event.liveness,
        event.liveness_passed,
        event.live_score,
        event.liveness_motion,
        event.door_action,
        event.message,
    ]


def write_events_csv(events: Iterable[AccessEvent], file: TextIO) -> None:
    """The header, then one row per event in the order given (exports are oldest first)."""
    writer = csv.writer(file)
    writer.writerow(EVENT_COLUMNS)
    writer.writerows(event_csv_row(event) for event in events)


def save_events_csv(events: Iterable[AccessEvent], path: Path) -> int:
    """Write the CSV file ``path``, readable by its owner only; returns how many events it holds."""
    events = list(events)
    try:
        with open(path, "w", newline="", encoding="utf-8", opener=private_opener) as file:
            write_events_csv(events, file)
    except OSError as error:
        raise FaceGuardError(f"Cannot write {path}: {error.strerror or error}.") from None
    return len(events)
