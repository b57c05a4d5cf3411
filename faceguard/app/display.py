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
    """When (local time) and how the person agreed to have their face stored, and to which version of
    the consent notice, or "not recorded"."""
    if person.consent_at is None:
        return "not recorded"
    method = f" ({person.consent_method})" if person.consent_method else ""
    notice = f", notice version {person.consent_version}" if person.consent_version else ""
    return local_time(person.consent_at) + method + notice


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


def liveness_text(event: AccessEvent) -> str:
    """The liveness checks' outcome with their measures, e.g. "active: passed (turn 0.31)", "passive: failed
    (live 0.12)", "both: failed (turn 0.05, live 0.97)"; the mode alone when nothing was judged, and ''
    for an event without checks (liveness off, not recognised, or logged before checks existed)."""
    if event.liveness is None:
        return ""
    if event.liveness_passed is None:
        return event.liveness
    measures = [
        f"{name} {value:.2f}"
        for name, value in (("turn", event.liveness_motion), ("live", event.live_score))
        if value is not None
    ]
    outcome = f"{event.liveness}: {'passed' if event.liveness_passed else 'failed'}"
    return f"{outcome} ({', '.join(measures)})" if measures else outcome
