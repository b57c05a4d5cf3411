"""The door rules' tables: access groups, the doors each may open on a schedule, and the site's holidays.

A person's access group is ``people.group_name`` (one group per person, as a panel's access level);
renaming a group moves its people with it, deleting it leaves them in a group the rules no longer
know, so they are refused at every door until given another (``faceguard.access.door_rules``, rule 2).
Schedules and holiday hours are checked with the parsers of ``faceguard.access.schedule`` before
anything is written and stored in their canonical text form. Every write is one transaction with its
record in the admin log, which names groups and holidays by id only.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from faceguard.access.door_rules import AccessGroup, DoorRules
from faceguard.access.schedule import Holiday, HolidayCalendar, Schedule, format_windows, parse_windows
from faceguard.core.errors import ConflictError, InvalidInputError, NotFoundError
from faceguard.store.admin_log import log_admin_action
from faceguard.store.base import StoreBase, guarded, inserted_id
from faceguard.store.db import write_transaction
from faceguard.store.timestamps import now, to_text

#: The rule tables with their columns, in the order they are written (a group before its doors); a site
#: server holds the same (``faceguard.site.door_rules``).
RULE_TABLES = {
    "access_groups": ("id", "name", "observe_holidays"),
    "group_doors": ("group_id", "door", "schedule"),
    "holidays": ("id", "name", "day", "yearly", "hours"),
}

#: Parsed schedules by their stored text (immutable, and a site reuses a few texts for many doors): a
#: kiosk reads the rules every few seconds, and parsing was nine tenths of it.
_parsed = functools.lru_cache(maxsize=4096)(Schedule.parse)


@dataclass(frozen=True)
class GroupRecord:
    """A stored access group: ``doors`` maps each door it may open to its schedule's text."""

    id: int
    name: str
    observe_holidays: bool
    doors: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "doors", MappingProxyType(dict(self.doors)))

    def group(self) -> AccessGroup:
        schedules = {door: _parsed(text) for door, text in self.doors.items()}
        return AccessGroup.of(self.name, schedules, observe_holidays=self.observe_holidays)


@dataclass(frozen=True)
class HolidayRecord:
    """A stored holiday: ``hours`` is None for a closed day, else its windows' text ("09:00-12:00")."""

    id: int
    name: str
    day: date
    yearly: bool
    hours: str | None

    def holiday(self) -> Holiday:
        return Holiday(self.name, self.day, self.yearly, None if self.hours is None else parse_windows(self.hours))


class DoorRulesTable(StoreBase):
    """Reads and writes of access groups, their doors and schedules, and holidays."""

    @guarded
    def access_groups(self) -> list[GroupRecord]:
        """Every access group, ordered by name, with its doors."""
        doors: dict[int, dict[str, str]] = {}
        for group_id, door, schedule in self.db.execute(
            "SELECT group_id, door, schedule FROM group_doors ORDER BY door, group_id"
        ):
            doors.setdefault(group_id, {})[door] = schedule
        rows = self.db.execute("SELECT id, name, observe_holidays FROM access_groups ORDER BY name COLLATE NOCASE, id")
        return [GroupRecord(row[0], row[1], bool(row[2]), doors.get(row[0], {})) for row in rows]

    @guarded
    def access_group(self, group_id: int) -> GroupRecord:
        found = next((group for group in self.access_groups() if group.id == group_id), None)
        if found is None:
            raise NotFoundError(f"No access group with id {group_id}: it was deleted meanwhile.")
        return found

    @guarded
    def add_access_group(
        self, name: str, observe_holidays: bool = True, doors: Mapping[str, str | Schedule] | None = None
    ) -> GroupRecord:
        """A new group that may open ``doors`` (door name → schedule, as text or parsed)."""
        name, texts = _checked_group(name, doors or {})
        with write_transaction(self.db):
            self._refuse_taken(name, None)
            cursor = self.db.execute(
                "INSERT INTO access_groups (name, observe_holidays) VALUES (?, ?)", [name, int(observe_holidays)]
            )
            group_id = inserted_id(cursor)
            self._write_doors(group_id, texts)
            log_admin_action(self.db, "access_group_added", None, group=group_id, doors=sorted(texts))
        return self.access_group(group_id)

    @guarded
    def update_access_group(
        self,
        group_id: int,
        *,
        name: str | None = None,
        observe_holidays: bool | None = None,
        doors: Mapping[str, str | Schedule] | None = None,
    ) -> GroupRecord:
        """Rename a group (its people move with it), change whether it observes holidays, or replace its
        doors and schedules; whatever is not given stays."""
        with write_transaction(self.db):
            current = self.access_group(group_id)
            new_name, texts = _checked_group(
                current.name if name is None else name, current.doors if doors is None else doors
            )
            keeps = current.observe_holidays if observe_holidays is None else observe_holidays
            fields = [
                field
                for field, changed in (
                    ("name", new_name != current.name),
                    ("observe_holidays", keeps != current.observe_holidays),
                    ("doors", texts != dict(current.doors)),
                )
                if changed
            ]
            if not fields:
                return current
            details: dict[str, Any] = {"group": group_id, "fields": fields}
            if "name" in fields:
                self._refuse_taken(new_name, group_id)
                details["people"] = self.db.execute(
                    "UPDATE people SET group_name = ?, updated = ? WHERE group_name = ?",
                    [new_name, to_text(now()), current.name],
                ).rowcount
            self.db.execute(
                "UPDATE access_groups SET name = ?, observe_holidays = ? WHERE id = ?", [new_name, int(keeps), group_id]
            )
            if "doors" in fields:
                self.db.execute("DELETE FROM group_doors WHERE group_id = ?", [group_id])
                self._write_doors(group_id, texts)
                before = current.doors
                details["doors"] = sorted(
                    door for door in texts.keys() | before.keys() if texts.get(door) != before.get(door)
                )
            log_admin_action(self.db, "access_group_edited", None, **details)
        return self.access_group(group_id)

    @guarded
    def delete_access_group(self, group_id: int) -> GroupRecord:
        """Delete a group and its doors; its people keep the name and are refused until given another group."""
        with write_transaction(self.db):
            group = self.access_group(group_id)
            self.db.execute("DELETE FROM access_groups WHERE id = ?", [group_id])
            log_admin_action(self.db, "access_group_deleted", None, group=group_id)
        return group

    @guarded
    def group_size(self, name: str) -> int:
        """How many people are in the group of that name."""
        return int(self.db.execute("SELECT count(*) FROM people WHERE group_name = ?", [name]).fetchone()[0])

    @guarded
    def holidays(self) -> list[HolidayRecord]:
        """Every holiday, by date."""
        rows = self.db.execute("SELECT id, name, day, yearly, hours FROM holidays ORDER BY day, id")
        return [HolidayRecord(row[0], row[1], date.fromisoformat(row[2]), bool(row[3]), row[4]) for row in rows]

    @guarded
    def add_holiday(self, name: str, day: date, yearly: bool = False, hours: str | None = None) -> HolidayRecord:
        """A holiday closing the doors all day (``hours`` None) or opening them only in ``hours``
        ("09:00-12:00, 14:00-16:00"), once or every year on that date."""
        holiday = _checked_holiday(name, day, yearly, hours)
        with write_transaction(self.db):
            self._refuse_clash(holiday, None)
            cursor = self.db.execute(
                "INSERT INTO holidays (name, day, yearly, hours) VALUES (?, ?, ?, ?)", _row(holiday)
            )
            holiday_id = inserted_id(cursor)
            log_admin_action(self.db, "holiday_added", None, holiday=holiday_id)
        return self._holiday(holiday_id)

    @guarded
    def update_holiday(
        self, holiday_id: int, name: str, day: date, yearly: bool = False, hours: str | None = None
    ) -> HolidayRecord:
        """Replace a holiday's name, date, yearly flag and hours."""
        holiday = _checked_holiday(name, day, yearly, hours)
        with write_transaction(self.db):
            self._holiday(holiday_id)
            self._refuse_clash(holiday, holiday_id)
            self.db.execute(
                "UPDATE holidays SET name = ?, day = ?, yearly = ?, hours = ? WHERE id = ?",
                [*_row(holiday), holiday_id],
            )
            log_admin_action(self.db, "holiday_edited", None, holiday=holiday_id)
        return self._holiday(holiday_id)

    @guarded
    def delete_holiday(self, holiday_id: int) -> HolidayRecord:
        with write_transaction(self.db):
            holiday = self._holiday(holiday_id)
            self.db.execute("DELETE FROM holidays WHERE id = ?", [holiday_id])
            log_admin_action(self.db, "holiday_deleted", None, holiday=holiday_id)
        return holiday

    @guarded
    def door_rules(self, zone_name: str) -> DoorRules:
        """The site's door rules as stored now, on the wall clock of the IANA zone ``zone_name``."""
        try:
            groups = tuple(record.group() for record in self.access_groups())
            holidays = tuple(record.holiday() for record in self.holidays())
            return DoorRules(zone_name, groups, holidays)
        except InvalidInputError as error:  # a hand edit or a faulty copy: the writes here check every value
            raise InvalidInputError(
                f"The door rules in {self.path} are invalid: {error} Correct them on the admin window's "
                "Doors & groups page."
            ) from None

    @guarded
    def door_rule_rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """The rule tables' rows as a site server holds them (``RULE_TABLES``' columns, in key order)."""
        return {
            table: [tuple(row) for row in self.db.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1, 2")]
            for table, columns in RULE_TABLES.items()
        }

    @guarded
    def replace_door_rules(self, rows: dict[str, list[tuple[Any, ...]]]) -> bool:
        """Make the rule tables hold ``rows`` (a site server's), in one transaction; whether they changed.
        A replica's copy: no admin record (the kiosk re-reads its rules every few seconds anyway)."""
        if rows == self.door_rule_rows():
            return False
        with write_transaction(self.db):
            for table in reversed(RULE_TABLES):
                self.db.execute(f"DELETE FROM {table}")
            for table, columns in RULE_TABLES.items():
                marks = ", ".join("?" * len(columns))
                self.db.conn.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows.get(table, [])
                )
        return True

    @guarded
    def last_admin_action(self) -> int:
        """The id of the newest admin log record (0 if none): it changes with every admin write, door
        rules and settings included."""
        return int(self.db.execute("SELECT coalesce(max(id), 0) FROM admin_events").fetchone()[0])

    def _write_doors(self, group_id: int, texts: Mapping[str, str]) -> None:
        self.db.conn.executemany(
            "INSERT INTO group_doors (group_id, door, schedule) VALUES (?, ?, ?)",
            [(group_id, door, text) for door, text in texts.items()],
        )

    def _refuse_taken(self, name: str, group_id: int | None) -> None:
        row = self.db.execute(
            "SELECT name FROM access_groups WHERE casefold(name) = casefold(?) AND id IS NOT ?", [name, group_id]
        ).fetchone()
        if row is not None:
            raise ConflictError(f"An access group named '{row[0]}' already exists: choose another name.")

    def _refuse_clash(self, holiday: Holiday, holiday_id: int | None) -> None:
        """Refuse a holiday on the date of another of the same kind (one-off or yearly)."""
        others = [record.holiday() for record in self.holidays() if record.id != holiday_id]
        HolidayCalendar((*others, holiday))

    def _holiday(self, holiday_id: int) -> HolidayRecord:
        found = next((holiday for holiday in self.holidays() if holiday.id == holiday_id), None)
        if found is None:
            raise NotFoundError(f"No holiday with id {holiday_id}: it was deleted meanwhile.")
        return found


def _checked_group(name: str, doors: Mapping[str, str | Schedule]) -> tuple[str, dict[str, str]]:
    """The group's name and its doors' canonical schedule texts; InvalidInputError names a bad one."""
    name = name.strip()
    schedules: dict[str, Schedule] = {}
    for door, schedule in doors.items():
        if isinstance(schedule, Schedule):
            schedules[door.strip()] = schedule
            continue
        try:
            schedules[door.strip()] = Schedule.parse(schedule)
        except InvalidInputError as error:
            raise InvalidInputError(f"The schedule of door '{door.strip()}': {error}") from None
    group = AccessGroup.of(name, schedules)  # checks the names
    return group.name, {str(door): schedule.format() for door, schedule in group.doors.items()}


def _checked_holiday(name: str, day: date, yearly: bool, hours: str | None) -> Holiday:
    if hours is not None and not hours.strip():
        raise InvalidInputError("Enter the holiday's opening hours (e.g. 09:00-12:00), or make it a closed day.")
    return Holiday(name.strip(), day, yearly, None if hours is None else parse_windows(hours))


def _row(holiday: Holiday) -> list[Any]:
    """The holidays row (name, day, yearly, hours) of a holiday."""
    hours = None if holiday.hours is None else format_windows(holiday.hours)
    return [holiday.name, holiday.day.isoformat(), int(holiday.yearly), hours]
