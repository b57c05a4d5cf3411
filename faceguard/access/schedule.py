"""Weekly opening hours on a site's wall clock, and the site's holidays.

A ``Schedule`` holds time windows per weekday; ``Schedule.check`` says whether an aware moment (the
caller's clock, normally UTC; no clock is read here) falls in one. Rules:

1. Windows are wall-clock times in the site's time zone, half-open [start, end), to the minute. The
   moment is converted to local time with zoneinfo and compared with them, so the door follows the
   clock on the wall through summer time: on the spring-forward night a 01:00-03:00 window is open one
   real hour (02:00-03:00 does not exist) and a window lying wholly in the skipped hour does not open;
   on the fall-back night both occurrences of 02:00-03:00 are inside a 01:00-04:00 window.
2. A window whose end is not after its start crosses midnight: "fri 22:00-06:00" is open from Friday
   22:00 until Saturday 06:00 (05:59 is in, 06:00 is out). A window belongs to the day it starts on.
3. A ``Holiday`` falls on a local date: once, or every year on that month and day (a yearly 29 February
   counts only in leap years). It either closes the day (``hours`` None) or replaces that day's weekly
   windows with its own ``hours``, for every schedule it applies to (an open day can open a Saturday).
   By rule 2 it changes only the windows that start on its date: a window started the evening before
   still runs into it, and its own windows may run into the next day. A one-off holiday overrides a
   yearly one on the same date; two of the same kind on one date are refused (``HolidayCalendar``).
4. Text form (an admin field, a database column): "24/7", "never", or parts separated by ";", each days
   then windows: "mon-fri 07:00-12:00, 13:00-19:00; sat 08:00-12:00". Days are mon..sun, ranges (which
   may wrap: "fri-mon") and lists ("mon, wed"); windows are HH:MM-HH:MM separated by ","; "24:00" may end
   a window, and an end of "00:00" means midnight, written back "24:00". Case and spaces are free.
   ``Schedule.format`` writes the canonical form (days with the same windows together, Monday first), so
   ``Schedule.parse(s.format()) == s``; ``Schedule.describe`` is the form for people ("Mon–Fri 07:00–19:00").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from faceguard.core.errors import InvalidInputError

DAY = 24 * 60  # minutes
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
_EXAMPLE = "e.g. 'mon-fri 07:00-19:00; sat 08:00-12:00'"


def site_zone(name: str) -> ZoneInfo:
    """The time zone of that IANA name ("Europe/Paris"); InvalidInputError if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(f"Unknown time zone '{name}': use an IANA name such as 'Europe/Paris'.") from None


@dataclass(frozen=True, order=True)
class Window:
    """Open from ``start`` to ``end`` minutes after the midnight of the day it starts on: 0 <= start < 1440
    and start < end, at most one day long; an end past 1440 runs into the next day."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not (0 <= self.start < DAY and self.start < self.end <= max(DAY, self.start + DAY - 1)):
            raise InvalidInputError(f"Not a time window: {self.start}-{self.end} minutes after midnight.")

    @property
    def crosses_midnight(self) -> bool:
        return self.end > DAY

    def covers(self, minute: int) -> bool:
        """Whether the minute of its own day (0..1439) is inside."""
        return self.start <= minute < self.end

    def covers_next_day(self, minute: int) -> bool:
        """Whether the minute of the next day is inside (a window crossing midnight)."""
        return minute + DAY < self.end

    def format(self, dash: str = "-") -> str:
        end = DAY if self.end == DAY else self.end % DAY
        return f"{_clock(self.start)}{dash}{_clock(end)}"


def parse_windows(text: str) -> tuple[Window, ...]:
    """Windows written "07:00-12:00, 13:00-19:00" (sorted, duplicates dropped)."""
    return _windows(text.replace("–", "-"), text)


def format_windows(windows: tuple[Window, ...], dash: str = "-") -> str:
    return ", ".join(window.format(dash) for window in windows)


@dataclass(frozen=True)
class Schedule:
    """Windows per weekday, ``days[0]`` Monday; each day's windows are kept sorted without duplicates."""

    days: tuple[tuple[Window, ...], ...]

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise InvalidInputError(f"A schedule has 7 days, got {len(self.days)}.")
        object.__setattr__(self, "days", tuple(tuple(sorted(set(windows))) for windows in self.days))

    @classmethod
    def parse(cls, text: str) -> Schedule:
        """The schedule of the text form (module docstring, rule 4); InvalidInputError names the bad part."""
        clean = text.replace("–", "-").strip()
        if clean.lower() == "24/7":
            return ALWAYS
        if clean.lower() == "never":
            return NEVER
        days: list[set[Window]] = [set() for _ in DAY_NAMES]
        parts = [part.strip() for part in clean.split(";") if part.strip()]
        if not parts:
            raise InvalidInputError(f"The schedule is empty: write '24/7', 'never' or days and times, {_EXAMPLE}.")
        for part in parts:
            found = re.fullmatch(r"(\D*?)\s*(\d.*)", part)
            if found is None:
                raise InvalidInputError(f"No times in '{part}': write the days then their times, {_EXAMPLE}.")
            if not found[1]:
                raise InvalidInputError(f"No days before '{part}': write the days then their times, {_EXAMPLE}.")
            windows = _windows(found[2], part)
            for day in _days(found[1], part):
                days[day].update(windows)
        return cls(tuple(tuple(windows) for windows in days))

    def format(self) -> str:
        """The canonical text form: "mon-fri 07:00-19:00; sat 08:00-12:00", "24/7" or "never"."""
        return self._text(DAY_NAMES, "-")

    def describe(self) -> str:
        """The form for people: "Mon–Fri 07:00–19:00; Sat 08:00–12:00"."""
        return "never open" if self == NEVER else self._text(tuple(name.title() for name in DAY_NAMES), "–")

    def __str__(self) -> str:
        return self.format()

    def check(self, at: datetime, zone: ZoneInfo, holidays: HolidayCalendar | None = None) -> ScheduleCheck:
        """Whether the aware moment ``at`` is inside, on the wall clock of ``zone``, with ``holidays``."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"A schedule is checked at an aware moment, got the naive {at.isoformat()}.")
        calendar = holidays or NO_HOLIDAYS
        local = at.astimezone(zone)
        today, minute = local.date(), local.hour * 60 + local.minute
        yesterday = today - timedelta(days=1)
        holiday, eve = calendar.on(today), calendar.on(yesterday)
        if any(window.covers(minute) for window in self._windows_on(today, holiday)):
            return ScheduleCheck(True, local, holiday)
        if any(window.covers_next_day(minute) for window in self._windows_on(yesterday, eve)):
            return ScheduleCheck(True, local, eve)
        # Refused: name the holiday that took away a weekly window covering this moment, if one did.
        if holiday is not None and any(window.covers(minute) for window in self.days[today.weekday()]):
            return ScheduleCheck(False, local, holiday)
        if eve is not None and any(window.covers_next_day(minute) for window in self.days[yesterday.weekday()]):
            return ScheduleCheck(False, local, eve)
        return ScheduleCheck(False, local, None)

    def allows(self, at: datetime, zone: ZoneInfo, holidays: HolidayCalendar | None = None) -> bool:
        return self.check(at, zone, holidays).allowed

    def _windows_on(self, day: date, holiday: Holiday | None) -> tuple[Window, ...]:
        if holiday is None:
            return self.days[day.weekday()]
        return holiday.hours or ()

    def _text(self, names: tuple[str, ...], dash: str) -> str:
        if self == ALWAYS:
            return "24/7"
        if self == NEVER:
            return "never"
        groups: dict[tuple[Window, ...], list[int]] = {}
        for day, windows in enumerate(self.days):
            if windows:
                groups.setdefault(windows, []).append(day)
        return "; ".join(f"{_day_ranges(days, names, dash)} {format_windows(w, dash)}" for w, days in groups.items())


ALWAYS = Schedule(((Window(0, DAY),),) * 7)
NEVER = Schedule(((),) * 7)


@dataclass(frozen=True)
class Holiday:
    """A named local date (``yearly``: every year on its month and day) that closes the doors all day
    (``hours`` None) or opens them only in ``hours``, which replace that day's weekly windows."""

    name: str
    day: date
    yearly: bool = False
    hours: tuple[Window, ...] | None = None

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInputError("A holiday needs a name.")
        if self.hours is not None:
            object.__setattr__(self, "hours", tuple(sorted(set(self.hours))) or None)

    @property
    def closes(self) -> bool:
        return self.hours is None

    def falls_on(self, day: date) -> bool:
        if self.yearly:
            return (day.month, day.day) == (self.day.month, self.day.day)
        return day == self.day

    def label(self, day: date) -> str:
        """The holiday as it fell on ``day``: 'Christmas Day' (2026-12-25)."""
        return f"'{self.name}' ({day.isoformat()})"


@dataclass(frozen=True)
class HolidayCalendar:
    """A site's holidays; ``on`` finds the one of a date (a one-off before a yearly one)."""

    holidays: tuple[Holiday, ...] = ()
    _once: dict[date, Holiday] = field(init=False, repr=False, compare=False)
    _yearly: dict[tuple[int, int], Holiday] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        once: dict[date, Holiday] = {}
        yearly: dict[tuple[int, int], Holiday] = {}
        for holiday in self.holidays:
            day = holiday.day
            other = yearly.get((day.month, day.day)) if holiday.yearly else once.get(day)
            if other is not None:
                when = f"every year on {day:%m-%d}" if holiday.yearly else day.isoformat()
                raise InvalidInputError(f"Holidays '{other.name}' and '{holiday.name}' both fall on {when}.")
            if holiday.yearly:
                yearly[day.month, day.day] = holiday
            else:
                once[day] = holiday
        object.__setattr__(self, "holidays", tuple(self.holidays))
        object.__setattr__(self, "_once", once)
        object.__setattr__(self, "_yearly", yearly)

    def on(self, day: date) -> Holiday | None:
        return self._once.get(day) or self._yearly.get((day.month, day.day))


NO_HOLIDAYS = HolidayCalendar()


@dataclass(frozen=True)
class ScheduleCheck:
    """The answer of ``Schedule.check``: ``local`` is the moment on the site's wall clock; ``holiday`` the
    holiday that decided it (its hours let it in, or it closed or replaced a window that would have),
    None when the weekly windows did."""

    allowed: bool
    local: datetime
    holiday: Holiday | None

    @property
    def holiday_date(self) -> date | None:
        """The date the deciding holiday fell on: today, or yesterday for a window crossing midnight."""
        if self.holiday is None:
            return None
        today = self.local.date()
        return today if self.holiday.falls_on(today) else today - timedelta(days=1)


def local_label(local: datetime) -> str:
    """The local day and time, "Sat 03:10" (English day names whatever the machine's locale)."""
    return f"{DAY_NAMES[local.weekday()].title()} {local:%H:%M}"


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _time(text: str, part: str, end: bool) -> int:
    found = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    minutes = int(found[1]) * 60 + int(found[2]) if found and int(found[2]) < 60 else -1
    if not 0 <= minutes < DAY and not (end and minutes == DAY):
        raise InvalidInputError(
            f"Bad time '{text}' in '{part}': use HH:MM from 00:00 to 23:59 (24:00 may end a window)."
        )
    return minutes


def _windows(text: str, part: str) -> tuple[Window, ...]:
    windows = []
    for item in (item.strip() for item in text.split(",")):
        found = re.fullmatch(r"([^-\s]+)\s*-\s*([^-\s]+)", item)
        if found is None:
            raise InvalidInputError(f"Bad time window '{item}' in '{part}': write HH:MM-HH:MM, e.g. 07:00-19:00.")
        start, end = _time(found[1], part, end=False), _time(found[2], part, end=True)
        if start == end:
            raise InvalidInputError(
                f"The window '{item}' in '{part}' starts and ends at the same time (a whole day is 00:00-24:00)."
            )
        windows.append(Window(start, end if end > start else end + DAY))
    return tuple(sorted(set(windows)))


def _day(text: str, part: str) -> int:
    try:
        return DAY_NAMES.index(text.strip().lower())
    except ValueError:
        raise InvalidInputError(f"Unknown day '{text.strip()}' in '{part}': days are {', '.join(DAY_NAMES)}.") from None


def _days(text: str, part: str) -> set[int]:
    days: set[int] = set()
    for item in text.split(","):
        first, dash, last = item.partition("-")
        start = _day(first, part)
        stop = _day(last, part) if dash else start
        days.update((start + step) % 7 for step in range((stop - start) % 7 + 1))
    return days


def _day_ranges(days: list[int], names: tuple[str, ...], dash: str) -> str:
    """[0, 1, 2, 3, 4, 6] → "mon-fri, sun" (consecutive days as ranges, without wrapping past Sunday)."""
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(names[run[0]] if len(run) == 1 else f"{names[run[0]]}{dash}{names[run[-1]]}" for run in runs)
