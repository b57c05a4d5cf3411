"""How the store keeps time: ISO 8601 text in UTC with milliseconds, which sorts as it reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


def now() -> datetime:
    """The current moment, aware, in UTC."""
    return datetime.now(UTC)


@overload
def to_text(moment: datetime) -> str: ...
@overload
def to_text(moment: None) -> None: ...
@overload
def to_text(moment: datetime | None) -> str | None: ...
def to_text(moment: datetime | None) -> str | None:
    """The stored form of a time: ISO 8601 in UTC with milliseconds (sorts as text)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a naive time is the operator's local time
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


@overload
def from_text(text: str) -> datetime: ...
@overload
def from_text(text: None) -> None: ...
@overload
def from_text(text: str | None) -> datetime | None: ...
def from_text(text: str | None) -> datetime | None:
    """The aware datetime of a stored time (None stays None)."""
    return None if text is None else datetime.fromisoformat(text)
