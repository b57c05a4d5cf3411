"""A clock that tests move by hand, so time-dependent code is tested without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

#: Where a ManualClock starts: monotonic seconds and wall time deliberately unrelated, as on a real machine.
MONOTONIC_START = 1000.0
WALL_START = datetime(2026, 6, 1, 9, tzinfo=UTC)


class ManualClock:
    """A ``faceguard.core.clock.Clock`` that stands still until ``advance``d; ``set_wall`` steps only
    the wall clock (as NTP or an administrator would)."""

    def __init__(self, monotonic: float = MONOTONIC_START, wall: datetime = WALL_START) -> None:
        self._monotonic, self._wall = monotonic, wall

    def monotonic(self) -> float:
        return self._monotonic

    def wall(self) -> datetime:
        return self._wall

    def advance(self, seconds: float) -> None:
        self._monotonic += seconds
        self._wall += timedelta(seconds=seconds)

    def set_wall(self, moment: datetime) -> None:
        self._wall = moment
