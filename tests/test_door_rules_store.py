"""The door rules' tables on real SQLite files: groups, their doors and schedules, holidays; refusals
before anything is written; the admin log's records; the DoorRules built from them; m013 on a file
that predates it; the time zone setting."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, date, datetime

import numpy as np
import pytest

from faceguard.access.door_rules import Refusal
from faceguard.access.schedule import Schedule
from faceguard.app.settings import KioskSettings, load_settings, save_settings, site_time_zone
from faceguard.core.errors import ConflictError, InvalidInputError, NotFoundError
from faceguard.store.db import connect
from faceguard.store.live_gallery import LiveGallery
from faceguard.store.migrations import SCHEMA, migrate, schema_version
from faceguard.store.repository import Store
from tests.store_helpers import DIM, MODEL, new_template

ZONE = "Europe/Paris"
#: Monday 2026-06-01 10:00 in Paris (summer time: UTC+2), and 21:00 that evening.
MONDAY_10H = datetime(2026, 6, 1, 8, tzinfo=UTC)
MONDAY_21H = datetime(2026, 6, 1, 19, tzinfo=UTC)


def admin_records(store: Store) -> list[tuple[str, dict]]:
    rows = store.db.execute("SELECT action, details FROM admin_events ORDER BY id").fetchall()
    return [(action, json.loads(details)) for action, details in rows]


def table_rows(store: Store) -> tuple[list, list, list]:
    return tuple(
        store.db.execute(f"SELECT * FROM {table}").fetchall() for table in ("access_groups", "group_doors", "holidays")
    )


def test_a_group_with_doors_and_schedules_round_trips_in_canonical_form(store):
    staff = store.add_access_group("Staff", doors={"Front door": "MON-FRI 07:00-19:00;sat 8:00-12:00", "Lab": "24/7"})
    assert (staff.name, staff.observe_holidays) == ("Staff", True)
    assert dict(staff.doors) == {"Front door": "mon-fri 07:00-19:00; sat 08:00-12:00", "Lab": "24/7"}
    security = store.add_access_group(
        " Security ", observe_holidays=False, doors={"Front door": Schedule.parse("24/7")}
    )
    assert store.access_groups() == [security, staff]  # by name
    assert store.access_group(staff.id) == staff
    assert security.name == "Security" and not security.observe_holidays
    assert admin_records(store) == [
        ("access_group_added", {"group": staff.id, "doors": ["Front door", "Lab"]}),
        ("access_group_added", {"group": security.id, "doors": ["Front door"]}),
    ]
    with Store.open(store.path) as other:  # what another program reads
        assert other.access_groups() == [security, staff]


def test_an_invalid_schedule_is_refused_with_the_parsers_message_and_nothing_is_written(store):
    staff = store.add_access_group("Staff", doors={"Front door": "24/7"})
    before, records = table_rows(store), admin_records(store)
    with pytest.raises(InvalidInputError, match=r"The schedule of door 'Lab': Unknown day 'mo' in 'mo 07:00-19:00'"):
        store.add_access_group("Cleaners", doors={"Front door": "24/7", "Lab": "mo 07:00-19:00"})
    with pytest.raises(InvalidInputError, match=r"Bad time '25:00'"):
        store.update_access_group(staff.id, doors={"Front door": "mon 07:00-25:00"})
    with pytest.raises(InvalidInputError, match="door name must not be empty"):
        store.update_access_group(staff.id, doors={"  ": "24/7"})
    with pytest.raises(InvalidInputError, match="group name must not be empty"):
        store.add_access_group("   ")
    assert (table_rows(store), admin_records(store)) == (before, records)


def test_group_names_are_unique_whatever_their_case(store):
    staff = store.add_access_group("Staff")
    cleaners = store.add_access_group("Cleaners")
    with pytest.raises(ConflictError, match="An access group named 'Staff' already exists"):
        store.add_access_group("staff")
    with pytest.raises(ConflictError, match="'Staff' already exists"):
        store.update_access_group(cleaners.id, name="STAFF")
    assert store.update_access_group(staff.id, name="staff").name == "staff"  # its own name, recased


def test_renaming_a_group_moves_its_people_and_reaches_a_running_gallery(store):
    rng = np.random.default_rng(1)
    staff = store.add_access_group("Staff", doors={"Front door": "24/7"})
    ada = store.enroll("Ada", new_template(rng), group="Staff")
    bob = store.enroll("Bob", new_template(rng), group="Visitors")
    live = LiveGallery.load(store, MODEL, DIM)
    assert live.status_of(ada.id).group == "Staff"
    renamed = store.update_access_group(staff.id, name="Employees", observe_holidays=False)
    assert (renamed.name, renamed.observe_holidays, dict(renamed.doors)) == ("Employees", False, {"Front door": "24/7"})
    assert (store.person(ada.id).group, store.person(bob.id).group) == ("Employees", "Visitors")
    assert live.refresh() == {ada.id}
    assert live.status_of(ada.id).group == "Employees"
    assert admin_records(store)[-1] == (
        "access_group_edited",
        {"group": staff.id, "fields": ["name", "observe_holidays"], "people": 1},
    )
    assert store.group_size("Employees") == 1


def test_a_persons_group_changed_in_the_people_table_reaches_a_running_gallery(store):
    """m013 adds group_name to the change log's trigger: the kiosk's status follows a move."""
    ada = store.enroll("Ada", new_template(np.random.default_rng(2)), group="Staff")
    live = LiveGallery.load(store, MODEL, DIM)
    store.update_person(ada.id, group="Cleaners")
    assert live.refresh() == {ada.id}
    assert live.status_of(ada.id).group == "Cleaners" == store.person(ada.id).status().group


def test_replacing_a_groups_doors_is_one_write_naming_the_doors_that_changed(store):
    staff = store.add_access_group("Staff", doors={"Front door": "24/7", "Lab": "mon-fri 09:00-17:00"})
    edited = store.update_access_group(
        staff.id, doors={"Front door": "24/7", "Lab": "mon 09:00-17:00", "Garage": "never"}
    )
    assert dict(edited.doors) == {"Front door": "24/7", "Garage": "never", "Lab": "mon 09:00-17:00"}
    assert admin_records(store)[-1] == (
        "access_group_edited",
        {"group": staff.id, "fields": ["doors"], "doors": ["Garage", "Lab"]},
    )
    count = len(admin_records(store))
    assert (
        store.update_access_group(staff.id, doors={"Lab": "mon 09:00-17:00", "Garage": "never", "Front door": "24/7"})
        == edited
    )
    assert len(admin_records(store)) == count  # nothing changed, nothing recorded


def test_deleting_a_group_takes_its_doors_and_leaves_its_people_refused(store):
    staff = store.add_access_group("Staff", doors={"Front door": "24/7"})
    store.add_access_group("Cleaners", doors={"Front door": "24/7"})
    ada = store.enroll("Ada", new_template(np.random.default_rng(3)), group="Staff")
    assert store.delete_access_group(staff.id) == staff
    assert store.db.execute("SELECT count(*) FROM group_doors WHERE group_id = ?", [staff.id]).fetchone()[0] == 0
    assert store.person(ada.id).group == "Staff"
    verdict = store.door_rules(ZONE).decide([store.person(ada.id).group], "Front door", MONDAY_10H)
    assert (verdict.allowed, verdict.refusal) == (False, Refusal.NO_GROUP)
    assert admin_records(store)[-1] == ("access_group_deleted", {"group": staff.id})
    with pytest.raises(NotFoundError, match=f"No access group with id {staff.id}"):
        store.update_access_group(staff.id, name="Staff")


def test_holidays_round_trip_and_clashes_are_refused_before_writing(store):
    christmas = store.add_holiday("Christmas Day", date(2026, 12, 25), yearly=True)
    eve = store.add_holiday("Christmas Eve", date(2026, 12, 24), hours="9:00-12:00,14:00 - 16:00")
    assert (christmas.yearly, christmas.hours, eve.yearly, eve.hours) == (True, None, False, "09:00-12:00, 14:00-16:00")
    assert store.holidays() == [eve, christmas]
    before = table_rows(store)
    with pytest.raises(InvalidInputError, match="Holidays 'Christmas Day' and 'Noël' both fall on every year on 12-25"):
        store.add_holiday("Noël", date(2030, 12, 25), yearly=True)
    with pytest.raises(InvalidInputError, match="Bad time window"):
        store.add_holiday("Half day", date(2026, 7, 3), hours="morning")
    with pytest.raises(InvalidInputError, match="opening hours"):
        store.update_holiday(eve.id, "Christmas Eve", date(2026, 12, 24), hours=" ")
    with pytest.raises(InvalidInputError, match="needs a name"):
        store.add_holiday(" ", date(2026, 7, 3))
    assert table_rows(store) == before
    one_off = store.add_holiday("Closed for works", date(2026, 12, 25))  # a one-off may override the yearly
    moved = store.update_holiday(eve.id, "Christmas Eve", date(2026, 12, 24), yearly=True)
    assert (moved.yearly, moved.hours) == (True, None)
    assert store.delete_holiday(one_off.id) == one_off
    assert store.holidays() == [moved, christmas]
    assert [action for action, _ in admin_records(store)] == [
        "holiday_added",
        "holiday_added",
        "holiday_added",
        "holiday_edited",
        "holiday_deleted",
    ]


def test_door_rules_are_built_from_the_tables(store):
    store.add_access_group("Staff", doors={"Front door": "mon-fri 07:00-19:00"})
    store.add_access_group("Security", observe_holidays=False, doors={"Front door": "24/7", "Vault": "24/7"})
    store.add_holiday("Whit Monday", date(2026, 5, 25))
    rules = store.door_rules(ZONE)
    assert rules.configured and rules.zone_name == ZONE
    assert {str(door) for door in rules.doors} == {"Front door", "Vault"}
    assert rules.decide(["Staff"], "Front door", MONDAY_10H).allowed
    late = rules.decide(["Staff"], "Front door", MONDAY_21H)
    assert (late.allowed, late.refusal) == (False, Refusal.OUTSIDE_SCHEDULE)
    assert late.reason == "Outside the 'Staff' schedule at door 'Front door' (Mon–Fri 07:00–19:00; now Mon 21:00)."
    whit_monday = datetime(2026, 5, 25, 8, tzinfo=UTC)
    assert rules.decide(["Staff"], "Front door", whit_monday).refusal is Refusal.HOLIDAY
    assert rules.decide(["Security"], "Front door", whit_monday).allowed
    assert rules.decide(["Staff"], "Vault", MONDAY_10H).refusal is Refusal.DOOR_NOT_IN_GROUPS


def test_no_group_keeps_todays_behaviour_and_a_hand_edited_schedule_is_reported(store):
    assert not store.door_rules(ZONE).configured
    assert store.door_rules(ZONE).decide([], "Any door", MONDAY_10H).allowed
    staff = store.add_access_group("Staff", doors={"Front door": "24/7"})
    store.db.execute("UPDATE group_doors SET schedule = 'weekdays' WHERE group_id = ?", [staff.id])
    with pytest.raises(
        InvalidInputError, match=rf"The door rules in {store.path} are invalid: .*'weekdays'.*Doors & groups"
    ):
        store.door_rules(ZONE)


def test_reading_the_rules_is_cheap_enough_to_repeat_every_few_seconds(store):
    """50 groups of 10 doors each and 30 holidays: a kiosk re-reads them after each admin change and
    every few seconds; it must stay well under a frame's time."""
    with store.db.conn:  # set up fast, through the API's own checks
        for number in range(50):
            doors = {f"Door {door}": f"mon-fri 0{door % 9}:00-18:00; sat 09:00-12:00" for door in range(10)}
            store.add_access_group(f"Group {number}", doors=doors)
        for day in range(1, 31):
            store.add_holiday(f"Holiday {day}", date(2026, 7, day), hours="10:00-12:00" if day % 2 else None)
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        rules = store.door_rules(ZONE)
        timings.append(time.perf_counter() - started)
    assert len(rules.groups) == 50 and len(rules.holidays) == 30
    assert min(timings) < 0.02, timings  # about 1.5 ms: parsed schedules are cached by their text


def test_the_doors_of_the_log_are_listed_and_filter_it(store):
    for door in ("Lab", "Front door", "Lab", None, "Garage"):
        store.log_event("unknown", "unknown", door=door)
    assert store.event_doors() == ["Front door", "Garage", "Lab"]
    assert [event.door for event in store.events(door="Lab")] == ["Lab", "Lab"]
    assert store.events(door="Cellar") == []
    plan = " ".join(
        row[3] for row in store.db.execute("EXPLAIN QUERY PLAN SELECT * FROM access_events WHERE door = 'Lab'")
    )
    assert "access_events_door" in plan


def test_m013_upgrades_an_existing_file_keeping_its_people_and_events(tmp_path):
    path = tmp_path / "old.db"
    db = connect(path)
    migrate(db, stop_before="m013_door_rules")
    assert schema_version(db) == len(SCHEMA) - 1
    db.close()
    with Store.open(path) as before:
        ada = before.enroll("Ada", new_template(np.random.default_rng(4)), group="staff")
        before.log_event("granted", "granted", person_id=ada.id, door="Front door")
    with Store.open(path) as store:
        assert schema_version(store.db) == len(SCHEMA)
        assert store.access_groups() == [] and store.holidays() == []
        assert store.person(ada.id).group == "staff"
        assert store.event_doors() == ["Front door"]
        assert not store.door_rules("UTC").configured  # no group yet: everyone still opens every door
        store.add_access_group("staff", doors={"Front door": "mon-fri 08:00-18:00"})
        assert store.door_rules("UTC").decide(["staff"], "Front door", MONDAY_10H).allowed
        assert store.check() == []
    plain = sqlite3.connect(path)
    assert plain.execute("SELECT name FROM sqlite_master WHERE name = 'people_edited'").fetchone() == ("people_edited",)
    plain.close()


def test_the_time_zone_setting_is_validated_and_read_alone(store):
    assert site_time_zone(store) == KioskSettings().time_zone  # the computer's until one is saved
    save_settings(store, KioskSettings(time_zone=ZONE))
    assert (site_time_zone(store), load_settings(store).time_zone) == (ZONE, ZONE)
    with pytest.raises(InvalidInputError, match="Unknown time zone 'Europe/Pariss'"):
        KioskSettings(time_zone="Europe/Pariss")
    store.set_setting("kiosk.time_zone", "Mars/Olympus")
    with pytest.raises(InvalidInputError, match="kiosk settings .* are invalid: Unknown time zone 'Mars/Olympus'"):
        load_settings(store)
