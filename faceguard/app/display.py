"""How times, consent and access events are worded for people: the same in the CLI and the admin window."""

from __future__ import annotations

from datetime import datetime

from faceguard.store.events import AccessEvent
from faceguard.store.people import Person

#: The columns of an access-log table (``faceguard events`` and the admin window's log).
EVENT_TABLE_COLUMNS = ("time", "door", "decision", "reason", "person", "distance", "message")


def local_time(moment: datetime | None, timespec: str = "minutes") -> str:
    """A stored time in the operator's local time ('' for none)."""
    return "" if moment is None else moment.astimezone().replace(tzinfo=None).isoformat(" ", timespec)


def consent_text(person: Person) -> str:
    """When (local time) and how the person agreed to have their face stored, or "not recorded"."""
    if person.consent_at is None:
        return "not recorded"
    return local_time(person.consent_at) + (f" ({person.consent_method})" if person.consent_method else "")


def event_cells(event: AccessEvent) -> list[str]:
    """The values of EVENT_TABLE_COLUMNS; an erased person shows as their pseudonym."""
    person = f"#{event.person_id} {event.person_name}" if event.person_name else event.subject or ""
    distance = "" if event.distance is None else f"{event.distance:.3f}"
    return [
        local_time(event.time, "seconds"),
        event.door or "",
        event.decision,
        event.reason,
        person,
        distance,
        event.message or "",
    ]
