"""The one clock model of FaceGuard.

- **Monotonic seconds** (``Clock.monotonic``) measure durations: tracking, voting windows, cooldowns,
  refresh intervals and latencies. They never jump when the wall clock is set (NTP, a change to or
  from summer time, an administrator), so such a step cannot change a decision.
- **UTC wall time** (``Clock.wall``, an aware datetime) says when something happened in the world:
  validity periods and the access log.
- **Local calendar days** are what an operator types or picks (validity dates, log filters):
  ``day_start`` / ``day_end`` turn a day into aware datetimes, ``local_date`` a moment into its day.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from datetime import time as time_of_day
from typing import Protocol


class Clock(Protocol):
    """Where the program reads the time; tests give their own to step time without sleeping."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary start; never goes back."""
        ...

    def wall(self) -> datetime:
        """The current moment, aware, in UTC."""
        ...


class SystemClock:
    """The machine's clocks."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> datetime:
        return datetime.now(UTC)


SYSTEM_CLOCK = SystemClock()


def day_start(day: date) -> datetime:
    """The first moment of ``day`` in the local time zone, as an aware datetime."""
    return datetime.combine(day, time_of_day.min).astimezone()


def day_end(day: date) -> datetime:
    """The last moment (to the microsecond) of ``day`` in the local time zone, as an aware datetime."""
    return datetime.combine(day, time_of_day.max).astimezone()


def local_date(moment: datetime) -> date:
    """The calendar date of the aware ``moment`` in the local time zone."""
    return moment.astimezone().date()
