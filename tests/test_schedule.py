"""Weekly door schedules on a site's wall clock: midnight, summer time, holidays and the text form."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faceguard.access.schedule import (
    ALWAYS,
    DAY,
    NEVER,
    Holiday,
    HolidayCalendar,
    Schedule,
    Window,
    format_windows,
    parse_windows,
    site_zone,
)
from faceguard.core.errors import InvalidInputError

PARIS = site_zone("Europe/Paris")
NEW_YORK = site_zone("America/New_York")
CHRISTMAS = Holiday("Christmas Day", date(2026, 12, 25))  # a Friday


def at(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """That wall-clock time in ``zone`` (the first of two on a fall-back night), as the UTC moment it is."""
    return datetime(year, month, day, hour, minute, second, tzinfo=zone).astimezone(UTC)


def open_minutes(schedule: Schedule, zone: ZoneInfo, start: datetime, hours: int) -> int:
    """How many real minutes from the UTC moment ``start`` on the schedule lets in."""
    return sum(schedule.allows(start + timedelta(minutes=step), zone) for step in range(hours * 60))


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("mon-fri 07:00-19:00; sat 08:00-12:00", "mon-fri 07:00-19:00; sat 08:00-12:00"),
        ("fri 22:00-06:00", "fri 22:00-06:00"),
        ("24/7", "24/7"),
        ("Mon-Sun 00:00-24:00", "24/7"),
        ("never", "never"),
        ("  MON – FRI  7:00 – 19:00 ;", "mon-fri 07:00-19:00"),
        ("fri-mon 22:00-00:00", "mon, fri-sun 22:00-24:00"),
        ("wed 13:00-19:00, 07:00-12:00; mon 07:00-12:00, 13:00-19:00", "mon, wed 07:00-12:00, 13:00-19:00"),
        ("mon 07:00-12:00; mon 07:00-12:00; tue-wed 07:00-12:00", "mon-wed 07:00-12:00"),
    ],
)
def test_the_text_form_parses_and_formats_canonically(text: str, canonical: str) -> None:
    schedule = Schedule.parse(text)
    assert schedule.format() == canonical
    assert Schedule.parse(canonical) == schedule


def test_parsing_gives_the_windows_of_each_day() -> None:
    schedule = Schedule.parse("mon-fri 07:00-19:00; sat 08:00-12:00; fri 22:00-06:00")
    assert schedule.days[0] == (Window(7 * 60, 19 * 60),)
    assert schedule.days[4] == (Window(7 * 60, 19 * 60), Window(22 * 60, 30 * 60))
    assert schedule.days[5] == (Window(8 * 60, 12 * 60),)
    assert schedule.days[6] == ()
    assert Schedule.parse("sun 00:00-24:00").days[6] == (Window(0, DAY),)


def test_describe_is_for_people() -> None:
    assert Schedule.parse("mon-fri 07:00-19:00; sat 08:00-12:00").describe() == "Mon–Fri 07:00–19:00; Sat 08:00–12:00"
    assert ALWAYS.describe() == "24/7"
    assert NEVER.describe() == "never open"
    assert str(Schedule.parse("fri 22:00-06:00")) == "fri 22:00-06:00"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The schedule is empty: write '24/7', 'never' or days and times"),
        (" ; ", "The schedule is empty"),
        ("Mnd 07:00-19:00", "Unknown day 'Mnd' in 'Mnd 07:00-19:00': days are mon, tue, wed, thu, fri, sat, sun."),
        ("mon-fry 07:00-19:00", "Unknown day 'fry' in 'mon-fry 07:00-19:00'"),
        ("mon-fri 07:00-19:00; weekend 08:00-12:00", "Unknown day 'weekend' in 'weekend 08:00-12:00'"),
        ("mon-fri", "No times in 'mon-fri': write the days then their times"),
        ("07:00-19:00", "No days before '07:00-19:00'"),
        ("mon 07:00-25:00", "Bad time '25:00' in 'mon 07:00-25:00': use HH:MM from 00:00 to 23:59"),
        ("mon 07:60-08:00", "Bad time '07:60' in 'mon 07:60-08:00'"),
        ("mon 24:00-06:00", "Bad time '24:00' in 'mon 24:00-06:00'"),
        ("mon 0700-1900", "Bad time '0700' in 'mon 0700-1900': use HH:MM"),
        ("mon 07:00 to 19:00", "Bad time window '07:00 to 19:00' in 'mon 07:00 to 19:00': write HH:MM-HH:MM"),
        ("sat 08:00-12:00, ", "Bad time window '' in 'sat 08:00-12:00,'"),
        ("mon 07:00", "Bad time window '07:00' in 'mon 07:00'"),
        ("mon 07:00-07:00", "The window '07:00-07:00' in 'mon 07:00-07:00' starts and ends at the same time"),
    ],
)
def test_parse_errors_name_the_bad_part(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=f"^{re.escape(message)}"):
        Schedule.parse(text)


def test_a_window_crossing_midnight_still_lets_in_the_next_morning() -> None:
    cleaners = Schedule.parse("fri 22:00-06:00")  # Friday 2026-06-05
    assert not cleaners.allows(at(PARIS, 2026, 6, 5, 21, 59), PARIS)
    assert cleaners.allows(at(PARIS, 2026, 6, 5, 22, 0), PARIS)
    assert cleaners.allows(at(PARIS, 2026, 6, 6, 0, 0), PARIS)
    assert cleaners.allows(at(PARIS, 2026, 6, 6, 5, 59, 59), PARIS)
    assert not cleaners.allows(at(PARIS, 2026, 6, 6, 6, 0), PARIS)
    assert not cleaners.allows(at(PARIS, 2026, 6, 4, 23, 0), PARIS)  # Thursday night
    assert not cleaners.allows(at(PARIS, 2026, 6, 7, 3, 0), PARIS)  # Sunday morning: Saturday has no window


def test_a_window_ending_at_midnight_ends_there() -> None:
    schedule = Schedule.parse("mon 22:00-24:00")
    assert schedule.allows(at(PARIS, 2026, 6, 1, 23, 59, 59), PARIS)
    assert not schedule.allows(at(PARIS, 2026, 6, 2, 0, 0), PARIS)


def test_windows_are_local_time_in_the_site_zone() -> None:
    staff = Schedule.parse("mon-fri 07:00-19:00")
    moment = datetime(2026, 6, 1, 5, 30, tzinfo=UTC)  # Monday 07:30 in Paris (UTC+2), 01:30 in New York
    assert staff.allows(moment, PARIS)
    assert not staff.allows(moment, NEW_YORK)
    assert staff.check(moment, PARIS).local == datetime(2026, 6, 1, 7, 30, tzinfo=PARIS)


def test_spring_forward_in_paris_a_window_over_the_missing_hour_is_open_one_real_hour() -> None:
    night = datetime(2026, 3, 28, 22, tzinfo=UTC)  # Sunday 29 March: 02:00 CET is 03:00 CEST
    assert open_minutes(Schedule.parse("sun 01:00-03:00"), PARIS, night, 6) == 60
    assert Schedule.parse("sun 01:00-03:00").allows(datetime(2026, 3, 29, 0, 59, tzinfo=UTC), PARIS)  # 01:59 CET
    assert not Schedule.parse("sun 01:00-03:00").allows(datetime(2026, 3, 29, 1, 0, tzinfo=UTC), PARIS)  # 03:00 CEST
    # a window wholly in the skipped hour does not open; one starting in it opens at 03:00
    assert open_minutes(Schedule.parse("sun 02:15-02:45"), PARIS, night, 6) == 0
    assert open_minutes(Schedule.parse("sun 02:30-04:00"), PARIS, night, 6) == 60
    # an overnight window over the change: Saturday 22:00 CET to Sunday 06:00 CEST is 7 real hours
    assert open_minutes(Schedule.parse("sat 22:00-06:00"), PARIS, datetime(2026, 3, 28, 12, tzinfo=UTC), 24) == 7 * 60


def test_fall_back_in_paris_both_occurrences_of_the_repeated_hour_are_inside() -> None:
    window = Schedule.parse("sun 01:00-04:00")  # Sunday 25 October: 03:00 CEST is 02:00 CET
    first, second = datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert window.check(first, PARIS).local.strftime("%H:%M %Z") == "02:30 CEST"
    assert window.check(second, PARIS).local.strftime("%H:%M %Z") == "02:30 CET"
    assert window.allows(first, PARIS) and window.allows(second, PARIS)
    assert open_minutes(window, PARIS, datetime(2026, 10, 24, 20, tzinfo=UTC), 10) == 4 * 60
    assert open_minutes(Schedule.parse("sat 22:00-06:00"), PARIS, datetime(2026, 10, 24, 12, tzinfo=UTC), 24) == 9 * 60


def test_summer_time_in_new_york() -> None:
    # Sunday 8 March 2026: 02:00 EST is 03:00 EDT; Sunday 1 November 2026: 02:00 EDT is 01:00 EST
    assert open_minutes(Schedule.parse("sun 01:00-03:00"), NEW_YORK, datetime(2026, 3, 8, 3, tzinfo=UTC), 8) == 60
    assert open_minutes(Schedule.parse("sun 01:00-02:00"), NEW_YORK, datetime(2026, 11, 1, 3, tzinfo=UTC), 8) == 120
    assert Schedule.parse("sun 01:00-02:00").allows(datetime(2026, 11, 1, 6, 59, tzinfo=UTC), NEW_YORK)  # 01:59 EST
    assert not Schedule.parse("sun 01:00-02:00").allows(datetime(2026, 11, 1, 7, 0, tzinfo=UTC), NEW_YORK)


def test_a_closing_holiday_closes_its_local_date() -> None:
    staff, holidays = Schedule.parse("mon-fri 07:00-19:00"), HolidayCalendar((CHRISTMAS,))
    check = staff.check(at(PARIS, 2026, 12, 25, 10), PARIS, holidays)
    assert not check.allowed and check.holiday == CHRISTMAS and check.holiday_date == date(2026, 12, 25)
    assert staff.allows(at(PARIS, 2026, 12, 24, 10), PARIS, holidays)
    assert staff.allows(at(PARIS, 2026, 12, 25, 10), PARIS)  # without the calendar
    # the local date decides: 23:30 UTC on the 24th is already Christmas in Paris, not yet in New York
    night = Schedule.parse("thu-fri 00:00-24:00")
    assert not night.allows(datetime(2026, 12, 24, 23, 30, tzinfo=UTC), PARIS, holidays)
    assert night.allows(datetime(2026, 12, 25, 3, 0, tzinfo=UTC), NEW_YORK, holidays)


def test_a_refusal_names_the_holiday_only_when_it_took_a_window_away() -> None:
    staff, holidays = Schedule.parse("mon-fri 07:00-19:00"), HolidayCalendar((CHRISTMAS,))
    assert staff.check(at(PARIS, 2026, 12, 25, 10), PARIS, holidays).holiday == CHRISTMAS
    evening = staff.check(at(PARIS, 2026, 12, 25, 20), PARIS, holidays)  # closed anyway at 20:00
    assert not evening.allowed and evening.holiday is None


def test_yearly_and_one_off_holidays() -> None:
    staff = Schedule.parse("mon-fri 07:00-19:00")
    yearly = HolidayCalendar((Holiday("Christmas Day", date(2026, 12, 25), yearly=True),))
    once = HolidayCalendar((CHRISTMAS,))
    monday = at(PARIS, 2028, 12, 25, 10)  # Christmas 2028 is a Monday
    assert not staff.allows(monday, PARIS, yearly)
    assert staff.allows(monday, PARIS, once)
    assert staff.allows(at(PARIS, 2028, 12, 26, 10), PARIS, yearly)


def test_a_yearly_29_february_counts_only_in_leap_years() -> None:
    leap = Holiday("Leap day", date(2028, 2, 29), yearly=True)
    assert leap.falls_on(date(2032, 2, 29))
    assert not leap.falls_on(date(2027, 2, 28)) and not leap.falls_on(date(2027, 3, 1))


def test_holiday_hours_replace_the_days_windows() -> None:
    staff = Schedule.parse("mon-fri 07:00-19:00")
    eve = Holiday("Christmas Eve", date(2026, 12, 24), hours=parse_windows("08:00-12:00"))
    holidays = HolidayCalendar((eve,))
    early = staff.check(at(PARIS, 2026, 12, 24, 7, 30), PARIS, holidays)
    assert not early.allowed and early.holiday == eve  # the weekly 07:00 opening was replaced
    inside = staff.check(at(PARIS, 2026, 12, 24, 9), PARIS, holidays)
    assert inside.allowed and inside.holiday == eve
    assert not staff.allows(at(PARIS, 2026, 12, 24, 12), PARIS, holidays)
    # they replace the windows, so they can open a day the weekly schedule keeps closed (an open day)
    open_day = Holiday("Open day", date(2026, 6, 13), hours=parse_windows("10:00-16:00"))  # a Saturday
    assert staff.allows(at(PARIS, 2026, 6, 13, 11), PARIS, HolidayCalendar((open_day,)))
    assert not staff.allows(at(PARIS, 2026, 6, 20, 11), PARIS, HolidayCalendar((open_day,)))


def test_a_window_belongs_to_the_day_it_starts_on_even_into_a_holiday() -> None:
    cleaners = Schedule.parse("fri 22:00-06:00")
    boxing_day = HolidayCalendar((Holiday("Boxing Day", date(2026, 12, 26)),))  # a Saturday
    check = cleaners.check(at(PARIS, 2026, 12, 26, 5, 59), PARIS, boxing_day)
    assert check.allowed and check.holiday is None
    # a Friday holiday takes away the whole window, its hours after midnight too
    christmas = HolidayCalendar((CHRISTMAS,))
    assert cleaners.check(at(PARIS, 2026, 12, 25, 23), PARIS, christmas).holiday == CHRISTMAS
    after_midnight = cleaners.check(at(PARIS, 2026, 12, 26, 3), PARIS, christmas)
    assert not after_midnight.allowed
    assert after_midnight.holiday == CHRISTMAS and after_midnight.holiday_date == date(2026, 12, 25)


def test_holiday_hours_may_run_past_midnight_into_the_next_day() -> None:
    eve = Holiday("New Year's Eve", date(2026, 12, 31), yearly=True, hours=parse_windows("20:00-02:00"))
    holidays = HolidayCalendar((eve, Holiday("New Year's Day", date(2027, 1, 1), yearly=True)))
    check = NEVER.check(at(PARIS, 2027, 1, 1, 1, 30), PARIS, holidays)
    assert check.allowed and check.holiday == eve and check.holiday_date == date(2026, 12, 31)
    assert not NEVER.allows(at(PARIS, 2027, 1, 1, 2, 0), PARIS, holidays)


def test_a_one_off_holiday_overrides_a_yearly_one_and_duplicates_are_refused() -> None:
    yearly = Holiday("Christmas Eve", date(2020, 12, 24), yearly=True)
    this_year = Holiday("Christmas Eve 2026", date(2026, 12, 24), hours=parse_windows("08:00-12:00"))
    holidays = HolidayCalendar((yearly, this_year))
    assert holidays.on(date(2026, 12, 24)) == this_year
    assert holidays.on(date(2027, 12, 24)) == yearly
    assert holidays.on(date(2027, 12, 23)) is None
    with pytest.raises(InvalidInputError, match="'Christmas Eve' and 'Xmas Eve' both fall on every year on 12-24"):
        HolidayCalendar((yearly, Holiday("Xmas Eve", date(2030, 12, 24), yearly=True)))
    with pytest.raises(InvalidInputError, match="Holidays 'Christmas Day' and 'Noël' both fall on 2026-12-25"):
        HolidayCalendar((CHRISTMAS, Holiday("Noël", date(2026, 12, 25))))


def test_windows_and_holidays_are_validated() -> None:
    assert Window(22 * 60, 30 * 60).crosses_midnight and not Window(0, DAY).crosses_midnight
    for start, end in [(0, 0), (600, 600), (600, 500), (-1, 60), (DAY, DAY + 60), (600, 600 + DAY)]:
        with pytest.raises(InvalidInputError, match="Not a time window"):
            Window(start, end)
    with pytest.raises(InvalidInputError, match="A schedule has 7 days, got 6"):
        Schedule(((),) * 6)
    with pytest.raises(InvalidInputError, match="A holiday needs a name"):
        Holiday(" ", date(2026, 1, 1))
    assert Holiday("Closed", date(2026, 1, 1), hours=()).closes
    assert format_windows(parse_windows("13:00-19:00, 07:00-12:00"), "–") == "07:00–12:00, 13:00–19:00"


def test_a_naive_moment_and_an_unknown_zone_are_refused() -> None:
    with pytest.raises(ValueError, match="aware moment"):
        ALWAYS.check(datetime(2026, 6, 1, 12), PARIS)
    with pytest.raises(InvalidInputError, match="Unknown time zone 'Europe/Pariss'"):
        site_zone("Europe/Pariss")
    with pytest.raises(InvalidInputError, match="Unknown time zone"):
        site_zone("../etc/passwd")


def _window(start: int, length: int) -> Window:
    return Window(start, start + length)


windows = st.integers(0, DAY - 1).flatmap(
    lambda start: st.integers(1, DAY if start == 0 else DAY - 1).map(lambda length: _window(start, length))
)
schedules = st.lists(st.lists(windows, max_size=3).map(tuple), min_size=7, max_size=7).map(
    lambda days: Schedule(tuple(days))
)
moments = st.datetimes(datetime(1971, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC))


@settings(max_examples=100, deadline=None, database=None)
@given(schedules)
def test_property_the_text_form_round_trips(schedule: Schedule) -> None:
    text = schedule.format()
    assert Schedule.parse(text) == schedule
    assert Schedule.parse(text.upper().replace("-", " – ")).format() == text


@settings(max_examples=300, deadline=None, database=None)
@given(moments, st.sampled_from([PARIS, NEW_YORK, site_zone("Australia/Lord_Howe"), site_zone("UTC")]))
def test_property_24_7_allows_every_instant_and_never_none(moment: datetime, zone: ZoneInfo) -> None:
    assert ALWAYS.allows(moment, zone)
    assert Schedule.parse("mon-sun 00:00-24:00").allows(moment, zone)
    assert not NEVER.allows(moment, zone)
