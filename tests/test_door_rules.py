"""Door rules of one site: which access groups may open which doors when, and the reason of a refusal."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from faceguard.access.door_rules import NO_RULES, AccessGroup, Door, DoorRules, Refusal
from faceguard.access.schedule import ALWAYS, Holiday, Schedule, parse_windows, site_zone
from faceguard.core.errors import InvalidInputError

PARIS = site_zone("Europe/Paris")
CHRISTMAS = Holiday("Christmas Day", date(2020, 12, 25), yearly=True)
CHRISTMAS_EVE = Holiday("Christmas Eve", date(2026, 12, 24), hours=parse_windows("08:00-12:00"))
STAFF = AccessGroup.of("staff", ["Front", "Back"], Schedule.parse("mon-fri 07:00-19:00"))
CLEANERS = AccessGroup.of("cleaners", ["Front", "Back"], Schedule.parse("fri 22:00-06:00"))
VISITORS = AccessGroup.of("visitors", ["Front"], Schedule.parse("mon-fri 09:00-17:00"))
IT = AccessGroup.of("it", {"Server room": ALWAYS, Door("Front"): Schedule.parse("mon-fri 08:00-18:00")})
SECURITY = AccessGroup.of("security", ["Front", "Back", "Server room"], observe_holidays=False)
RULES = DoorRules("Europe/Paris", (STAFF, CLEANERS, VISITORS, IT, SECURITY), (CHRISTMAS, CHRISTMAS_EVE))


def paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """That wall-clock time in Paris, as the UTC moment the kiosk's clock gives."""
    return datetime(year, month, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


SATURDAY_NIGHT = paris(2026, 6, 6, 3, 10)
MONDAY_MORNING = paris(2026, 6, 8, 10, 0)


def test_no_groups_configured_lets_every_person_open_every_door_at_any_time() -> None:
    rules = DoorRules("Europe/Paris")
    assert not rules.configured and RULES.configured
    for groups, door, moment in [([], "Front", SATURDAY_NIGHT), (["staff"], "Anything", MONDAY_MORNING)]:
        verdict = rules.decide(groups, door, moment)
        assert verdict.allowed and verdict.refusal is None
        assert verdict.reason == NO_RULES
    assert NO_RULES == "No door rules configured: every enrolled active person may open every door."


def test_no_groups_configured_still_keeps_the_holidays() -> None:
    rules = DoorRules("Europe/Paris", holidays=(CHRISTMAS, CHRISTMAS_EVE))
    closed = rules.decide([], "Front", paris(2027, 12, 25, 10))
    assert not closed.allowed and closed.refusal is Refusal.HOLIDAY
    assert closed.reason == "Door 'Front' is closed on holiday 'Christmas Day' (2027-12-25)."
    assert rules.decide([], "Front", paris(2026, 12, 24, 9)).allowed
    late = rules.decide([], "Front", paris(2026, 12, 24, 13, 10))
    assert late.reason == "Door 'Front' opens only 08:00–12:00 on holiday 'Christmas Eve' (2026-12-24); now Thu 13:10."
    assert rules.decide([], "Front", paris(2026, 12, 23, 3)).allowed


def test_a_group_in_schedule_opens_its_door() -> None:
    verdict = RULES.decide(["staff"], "Front", MONDAY_MORNING)
    assert verdict.allowed and verdict.group == "staff" and verdict.refusal is None
    assert verdict.reason == "Group 'staff' may use door 'Front'."
    assert RULES.decide(["staff"], Door("Back"), MONDAY_MORNING).allowed


def test_a_door_no_group_may_use_is_refused_to_everyone() -> None:
    for groups in (["security"], ["staff", "it"], []):
        verdict = RULES.decide(groups, "Loading dock", MONDAY_MORNING)
        assert not verdict.allowed and verdict.refusal is Refusal.DOOR_HAS_NO_GROUP
        assert verdict.reason == "Door 'Loading dock' has no access group."
    assert RULES.doors == {Door("Front"), Door("Back"), Door("Server room")}


def test_a_person_in_no_group_is_refused() -> None:
    for groups in ([], ["interns"]):  # a group the rules do not know counts as none
        verdict = RULES.decide(groups, "Front", MONDAY_MORNING)
        assert not verdict.allowed and verdict.refusal is Refusal.NO_GROUP and verdict.reason == "No access group."


def test_a_group_that_may_not_use_the_door_is_named() -> None:
    verdict = RULES.decide(["cleaners"], "Server room", MONDAY_MORNING)
    assert not verdict.allowed and verdict.refusal is Refusal.DOOR_NOT_IN_GROUPS
    assert verdict.reason == "Group 'cleaners' may not use door 'Server room'."
    both = RULES.decide(iter(["visitors", "cleaners", "interns"]), "Server room", MONDAY_MORNING)
    assert both.reason == "Groups 'cleaners' and 'visitors' may not use door 'Server room'."


def test_outside_the_schedule_names_the_group_its_hours_and_the_local_time() -> None:
    verdict = RULES.decide(["staff"], "Front", SATURDAY_NIGHT)
    assert not verdict.allowed and verdict.refusal is Refusal.OUTSIDE_SCHEDULE
    assert verdict.reason == "Outside the 'staff' schedule at door 'Front' (Mon–Fri 07:00–19:00; now Sat 03:10)."


def test_several_groups_allow_when_any_of_them_does() -> None:
    verdict = RULES.decide(["staff", "cleaners"], "Front", SATURDAY_NIGHT)  # Friday's 22:00-06:00 window
    assert verdict.allowed and verdict.group == "cleaners"
    assert RULES.decide(["cleaners", "staff"], "Front", MONDAY_MORNING).group == "staff"
    # the first allowing group in the rules' order is named
    assert RULES.decide(["visitors", "staff"], "Front", MONDAY_MORNING).group == "staff"


def test_outside_several_schedules_names_each_of_the_groups_that_may_use_the_door() -> None:
    verdict = RULES.decide(["visitors", "staff", "cleaners", "it"], "Back", paris(2026, 6, 6, 10))
    assert verdict.refusal is Refusal.OUTSIDE_SCHEDULE
    assert verdict.reason == (
        "Outside the 'staff' and 'cleaners' schedules at door 'Back' "
        "(staff: Mon–Fri 07:00–19:00; cleaners: Fri 22:00–06:00; now Sat 10:00)."
    )


def test_a_closing_holiday_is_the_reason_when_it_took_away_a_window() -> None:
    christmas_friday = paris(2026, 12, 25, 10)
    verdict = RULES.decide(["cleaners", "staff"], "Front", christmas_friday)  # cleaners come later anyway
    assert not verdict.allowed and verdict.refusal is Refusal.HOLIDAY and verdict.holiday == CHRISTMAS
    assert verdict.reason == "Door 'Front' is closed on holiday 'Christmas Day' (2026-12-25)."
    # the cleaners' Friday window belongs to Friday, the holiday, so it does not open after midnight either
    assert RULES.decide(["cleaners"], "Front", paris(2026, 12, 26, 3)).reason == (
        "Door 'Front' is closed on holiday 'Christmas Day' (2026-12-25)."
    )
    # on a Saturday Christmas the staff would not have come: the schedule is the reason
    saturday = RULES.decide(["staff"], "Front", paris(2027, 12, 25, 10))
    assert saturday.refusal is Refusal.OUTSIDE_SCHEDULE and "now Sat 10:00" in saturday.reason


def test_holiday_hours_replace_the_schedules_of_the_day() -> None:
    assert RULES.decide(["staff"], "Front", paris(2026, 12, 24, 9)).allowed
    assert RULES.decide(["visitors"], "Front", paris(2026, 12, 24, 8, 30)).allowed  # visitors normally from 09:00
    early = RULES.decide(["staff"], "Front", paris(2026, 12, 24, 7, 30))
    assert early.refusal is Refusal.HOLIDAY and early.holiday == CHRISTMAS_EVE
    assert early.reason == "Door 'Front' opens only 08:00–12:00 on holiday 'Christmas Eve' (2026-12-24); now Thu 07:30."


def test_a_group_that_ignores_holidays_is_let_in_on_them() -> None:
    verdict = RULES.decide(["staff", "security"], "Front", paris(2026, 12, 25, 10))
    assert verdict.allowed and verdict.group == "security"


def test_a_schedule_per_door() -> None:
    assert RULES.decide(["it"], "Server room", SATURDAY_NIGHT).allowed
    front = RULES.decide(["it"], "Front", SATURDAY_NIGHT)
    assert front.reason == "Outside the 'it' schedule at door 'Front' (Mon–Fri 08:00–18:00; now Sat 03:10)."
    assert IT.doors[Door("Server room")] == ALWAYS


def test_the_site_time_zone_decides_the_local_time() -> None:
    moment = datetime(2026, 6, 8, 12, 30, tzinfo=UTC)  # Monday 08:30 in New York, 14:30 in Paris
    new_york = DoorRules("America/New_York", (VISITORS,))
    verdict = new_york.decide(["visitors"], "Front", moment)
    assert verdict.reason == "Outside the 'visitors' schedule at door 'Front' (Mon–Fri 09:00–17:00; now Mon 08:30)."
    assert DoorRules("Europe/Paris", (VISITORS,)).decide(["visitors"], "Front", moment).allowed


def test_rules_are_validated() -> None:
    with pytest.raises(InvalidInputError, match="Two access groups are named 'staff'"):
        DoorRules("Europe/Paris", (STAFF, AccessGroup.of("staff", ["Back"])))
    with pytest.raises(InvalidInputError, match="Unknown time zone 'Mars/Olympus'"):
        DoorRules("Mars/Olympus")
    with pytest.raises(InvalidInputError, match="Holidays 'Christmas Day' and 'Noël' both fall on"):
        DoorRules("Europe/Paris", holidays=(CHRISTMAS, Holiday("Noël", date(2021, 12, 25), yearly=True)))
    for name in ("", "  ", " Front"):
        with pytest.raises(InvalidInputError, match="A door name must not be empty"):
            Door(name)
    with pytest.raises(InvalidInputError, match="A group name must not be empty"):
        AccessGroup.of("", ["Front"])


def test_a_naive_moment_is_refused_whatever_the_rules() -> None:
    naive = datetime(2026, 6, 8, 10)
    for rules, door in [(DoorRules("Europe/Paris"), "Front"), (RULES, "Loading dock"), (RULES, "Front")]:
        with pytest.raises(ValueError, match="aware moment"):
            rules.decide([], door, naive)
