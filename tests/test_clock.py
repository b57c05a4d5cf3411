"""The clock model: the machine's clocks, and local calendar days as aware datetimes."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest

from faceguard.core.clock import SYSTEM_CLOCK, day_end, day_start, local_date


@pytest.fixture
def local_zone(monkeypatch):
    """Set the process's local time zone to a POSIX rule (needs no time-zone database)."""

    def use(rule: str) -> None:
        monkeypatch.setenv("TZ", rule)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


def test_a_local_day_runs_from_its_first_to_its_last_moment_in_local_time(local_zone):
    local_zone("EST+5")
    assert day_start(date(2026, 11, 25)).isoformat() == "2026-11-25T00:00:00-05:00"
    assert day_end(date(2026, 11, 25)).isoformat() == "2026-11-25T23:59:59.999999-05:00"


def test_a_day_with_a_summer_time_change_has_the_offsets_of_its_start_and_end(local_zone):
    local_zone("CET-1CEST,M3.5.0,M10.5.0/3")  # summer time from the last Sunday of March, 29 March 2026
    start, end = day_start(date(2026, 3, 29)), day_end(date(2026, 3, 29))
    assert (start.isoformat(), end.isoformat()) == ("2026-03-29T00:00:00+01:00", "2026-03-29T23:59:59.999999+02:00")
    assert (end - start).total_seconds() == pytest.approx(23 * 3600)


def test_the_local_date_of_a_moment(local_zone):
    local_zone("EST+5")
    assert local_date(datetime(2026, 11, 25, 3, tzinfo=UTC)) == date(2026, 11, 24)
    assert local_date(datetime(2026, 11, 25, 5, tzinfo=UTC)) == date(2026, 11, 25)
    assert local_date(day_end(date(2026, 11, 25))) == date(2026, 11, 25)


def test_the_system_clock_reads_monotonic_seconds_and_aware_utc_wall_time():
    first, before = SYSTEM_CLOCK.monotonic(), datetime.now(UTC)
    wall = SYSTEM_CLOCK.wall()
    assert SYSTEM_CLOCK.monotonic() >= first
    assert wall.tzinfo is UTC and before <= wall <= datetime.now(UTC)
