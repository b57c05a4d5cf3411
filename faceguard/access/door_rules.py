"""Which access groups may open which doors, and when: the door rules of one site.

A site names its doors; an ``AccessGroup`` (staff, cleaners, visitors) may open some of them, each on a
``Schedule`` (one for all its doors, or one per door); ``DoorRules`` holds the groups, the site's holidays
and its time zone. ``DoorRules.decide`` answers for a person already recognised and in good standing
(``policy.standing``): their group names, a door, an aware moment (the caller's clock). Rules:

1. No groups at all: no door rules are configured, every enrolled active person may open every door
   at any time (a stand-alone kiosk's behaviour). Holidays still apply then: a closing holiday closes
   every door, a holiday with hours opens them only in those hours.
2. Otherwise access fails closed: a door no group may use is refused to everyone ("Door 'X' has no
   access group."), even to a person in no group; a person in no group of the rules is refused (group
   names the rules do not know, such as a deleted group's, are ignored).
3. A person in several groups is let in when any of their groups may use the door at that moment, by
   its schedule for that door with the site's holidays (schedule.py's rules; a group with
   ``observe_holidays`` False, such as security, ignores them). The first such group in the rules'
   order is named.
4. When every group refuses, the reason is the most useful one, the first of: a holiday that closed or
   replaced a window one of their groups would have opened at this moment (the person is normally let
   in now, so "outside the schedule" would puzzle them); being outside the schedules of their groups
   that may use the door (each named, with its hours, and the local time); none of their groups may use
   the door.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

from faceguard.access.schedule import (
    ALWAYS,
    Holiday,
    HolidayCalendar,
    Schedule,
    ScheduleCheck,
    format_windows,
    local_label,
    site_zone,
)
from faceguard.core.errors import InvalidInputError

NO_RULES = "No door rules configured: every enrolled active person may open every door."


def _check_name(kind: str, name: str) -> None:
    if not name.strip() or name != name.strip():
        raise InvalidInputError(f"A {kind} name must not be empty or start or end with a space, got {name!r}.")


@dataclass(frozen=True)
class Door:
    """A door of the site, by the name its administrator gave it (names are compared exactly)."""

    name: str

    def __post_init__(self) -> None:
        _check_name("door", self.name)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class AccessGroup:
    """People who may open ``doors``, each door in its schedule; ``observe_holidays`` False ignores the
    site's holidays (a security team on 24/7)."""

    name: str
    doors: Mapping[Door, Schedule] = field(hash=False)
    observe_holidays: bool = True

    def __post_init__(self) -> None:
        _check_name("group", self.name)
        object.__setattr__(self, "doors", MappingProxyType(dict(self.doors)))

    @classmethod
    def of(
        cls,
        name: str,
        doors: Mapping[Door | str, Schedule] | Iterable[Door | str],
        schedule: Schedule = ALWAYS,
        *,
        observe_holidays: bool = True,
    ) -> AccessGroup:
        """A group whose doors are named (with ``schedule`` for all) or mapped each to its own schedule."""
        if isinstance(doors, Mapping):
            schedules = {_door(door): door_schedule for door, door_schedule in doors.items()}
        else:
            schedules = {_door(door): schedule for door in doors}
        return cls(name, schedules, observe_holidays)


class Refusal(StrEnum):
    """Why ``DoorRules.decide`` refused, from the most useful reason (rule 4) down."""

    HOLIDAY = "holiday"  # a holiday closed the door, or its hours replaced a window that would have opened
    OUTSIDE_SCHEDULE = "outside schedule"  # a group of the person may use the door, but not now
    DOOR_NOT_IN_GROUPS = "door not in groups"  # no group of the person may use the door
    NO_GROUP = "no group"  # the person is in no access group
    DOOR_HAS_NO_GROUP = "door has no group"  # no group at all may use the door


@dataclass(frozen=True)
class DoorVerdict:
    """Whether the person may open the door, and a sentence for the screen and the log saying why.
    ``refusal`` is None when allowed; ``group`` the group that let them in; ``holiday`` the holiday that
    decided, if one did."""

    allowed: bool
    reason: str
    refusal: Refusal | None = None
    group: str | None = None
    holiday: Holiday | None = None


@dataclass(frozen=True)
class DoorRules:
    """One site's door rules: its IANA time zone (``zone_name``, e.g. "Europe/Paris"), access groups
    (names unique) and holidays. See the module docstring for the rules of ``decide``."""

    zone_name: str
    groups: tuple[AccessGroup, ...] = ()
    holidays: tuple[Holiday, ...] = ()
    zone: ZoneInfo = field(init=False, repr=False, compare=False)
    calendar: HolidayCalendar = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", tuple(self.groups))
        object.__setattr__(self, "holidays", tuple(self.holidays))
        object.__setattr__(self, "zone", site_zone(self.zone_name))
        object.__setattr__(self, "calendar", HolidayCalendar(self.holidays))
        names = [group.name for group in self.groups]
        if duplicate := next((name for name in names if names.count(name) > 1), None):
            raise InvalidInputError(f"Two access groups are named '{duplicate}'.")

    @property
    def configured(self) -> bool:
        """False when no group is defined: everyone may open every door (rule 1)."""
        return bool(self.groups)

    @property
    def doors(self) -> frozenset[Door]:
        """The doors some group may use."""
        return frozenset(door for group in self.groups for door in group.doors)

    def decide(self, person_groups: Iterable[str], door: Door | str, at: datetime) -> DoorVerdict:
        """Whether a person in ``person_groups`` may open ``door`` at the aware moment ``at``."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"Door rules are checked at an aware moment, got the naive {at.isoformat()}.")
        door = _door(door)
        if not self.groups:
            check = ALWAYS.check(at, self.zone, self.calendar)
            return DoorVerdict(True, NO_RULES) if check.allowed else _holiday_refusal(door, check)
        if not any(door in group.doors for group in self.groups):
            return DoorVerdict(False, f"Door '{door}' has no access group.", Refusal.DOOR_HAS_NO_GROUP)
        names = set(person_groups)
        mine = [group for group in self.groups if group.name in names]
        if not mine:
            return DoorVerdict(False, "No access group.", Refusal.NO_GROUP)
        candidates = [group for group in mine if door in group.doors]
        if not candidates:
            groups = f"Group{'s' if len(mine) > 1 else ''} {_quoted(mine)}"
            return DoorVerdict(False, f"{groups} may not use door '{door}'.", Refusal.DOOR_NOT_IN_GROUPS)
        checks = [(group, self._check(group, door, at)) for group in candidates]
        for group, check in checks:
            if check.allowed:
                reason = f"Group '{group.name}' may use door '{door}'."
                return DoorVerdict(True, reason, group=group.name, holiday=check.holiday)
        for _, check in checks:
            if check.holiday is not None:
                return _holiday_refusal(door, check)
        hours = [group.doors[door].describe() for group in candidates]
        if len(candidates) > 1:
            hours = [f"{group.name}: {text}" for group, text in zip(candidates, hours)]
        schedules = f"{_quoted(candidates)} schedule{'s' if len(candidates) > 1 else ''}"
        now = local_label(checks[0][1].local)
        reason = f"Outside the {schedules} at door '{door}' ({'; '.join(hours)}; now {now})."
        return DoorVerdict(False, reason, Refusal.OUTSIDE_SCHEDULE)

    def _check(self, group: AccessGroup, door: Door, at: datetime) -> ScheduleCheck:
        return group.doors[door].check(at, self.zone, self.calendar if group.observe_holidays else None)


def _door(door: Door | str) -> Door:
    return door if isinstance(door, Door) else Door(door)


def _quoted(groups: list[AccessGroup]) -> str:
    """The names quoted and joined: 'a' or 'a', 'b' and 'c'."""
    names = [f"'{group.name}'" for group in groups]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _holiday_refusal(door: Door, check: ScheduleCheck) -> DoorVerdict:
    holiday, day = check.holiday, check.holiday_date
    assert holiday is not None and day is not None  # only called for a refusal a holiday decided
    if holiday.hours is None:
        reason = f"Door '{door}' is closed on holiday {holiday.label(day)}."
    else:
        hours = format_windows(holiday.hours, "–")
        reason = f"Door '{door}' opens only {hours} on holiday {holiday.label(day)}; now {local_label(check.local)}."
    return DoorVerdict(False, reason, Refusal.HOLIDAY, holiday=holiday)
