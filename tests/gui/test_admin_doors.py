"""The admin window's Doors & groups page, the person dialog's group and the access log's door filter,
on real database files and real widgets; a kiosk engine on the same file follows what the page saves."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QMessageBox

from faceguard.access.policy import Outcome, PolicyConfig
from faceguard.app.enrollment import enroll_photo
from faceguard.app.kiosk.door_access import LOOK
from faceguard.app.kiosk.session import KioskEngine
from faceguard.app.settings import KioskSettings, site_time_zone
from faceguard.app.site_threshold import SiteThreshold
from faceguard.gui.admin.access_log import AccessLogPage
from faceguard.gui.admin.doors_page import DoorsPage
from faceguard.gui.admin.person_dialog import PersonDialog
from faceguard.gui.admin.settings_page import SettingsPage
from faceguard.matching.calibration import DEFAULT_MAX_FPIR
from faceguard.store.repository import Store
from faceguard.vision.camera import Frame
from tests.clock_helpers import ManualClock

DOOR = "Front door"
SETTINGS = KioskSettings(door=DOOR)
CONFIG = PolicyConfig(k=3, n=5, cooldown=3.0)
#: Monday 2026-06-01 11:00 in Paris.
MONDAY_11H = datetime(2026, 6, 1, 9, tzinfo=UTC)


def click(qtbot, button):
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


@pytest.fixture
def page(qtbot, store):
    doors = DoorsPage(store, SETTINGS)
    qtbot.addWidget(doors)
    doors.show()
    return doors


def add_group(qtbot, page, name):
    qtbot.keyClicks(page.new_group, name)
    click(qtbot, page.add_group_button)


def appearance(engine, image, frames=3):
    """A face in front of the kiosk for ``frames`` frames 1/8 s apart; the decisions made."""
    decisions = []
    for index in range(frames):
        frame = Frame.capture(image, index, engine.clock)
        decisions += engine.process(frame).decisions
        engine.clock.advance(0.125)
    return [view.decision for view in decisions]


def test_a_group_and_a_holiday_added_on_the_page_decide_the_kiosks_next_decision(
    qtbot, page, store, pipeline, photo, monkeypatch
):
    """A kiosk runs on the file: Obama is granted. On the page the admin sets the site's time zone, adds
    Staff with the front door on weekdays (a typo in the schedule shows the parser's message and keeps
    Save disabled), puts Obama in Staff in his dialog and closes the site for a holiday today: his next
    appearance is refused naming the holiday. The holiday deleted, he is let in again."""
    obama = enroll_photo(store, pipeline, photo("obama.jpg"), "Barack Obama", "photo:obama.jpg")
    rule = SiteThreshold.for_model(pipeline.spec, DEFAULT_MAX_FPIR)
    with Store.open(store.path) as kiosk_store:
        engine = KioskEngine.open(pipeline, kiosk_store, CONFIG, DOOR, rule, ManualClock(wall=MONDAY_11H))
        face = photo("obama2.jpg")
        assert [d.outcome for d in appearance(engine, face)] == [Outcome.GRANTED]

        page.time_zone.setCurrentText("Europe/Paris")
        click(qtbot, page.save_zone_button)
        assert site_time_zone(store) == "Europe/Paris"
        add_group(qtbot, page, "Staff")
        assert "add the doors it may open" in page.message.text()
        assert page.selected().name == "Staff" and not page.rows
        click(qtbot, page.add_door_button)
        [row] = page.rows
        assert row.door_name == DOOR
        row.schedule.clear()
        qtbot.keyClicks(row.schedule, "mon-fri 07:00-19:0")
        assert not page.save_button.isEnabled()
        message = "Bad time '19:0' in 'mon-fri 07:00-19:0': use HH:MM from 00:00 to 23:59 (24:00 may end a window)."
        assert (row.reading.text(), page.problem.text()) == (message, f"Door '{DOOR}': {message}")
        qtbot.keyClicks(row.schedule, "0")
        assert row.reading.text() == "Mon–Fri 07:00–19:00" and page.problem.text() == ""
        click(qtbot, page.save_button)
        [staff] = store.access_groups()
        assert dict(staff.doors) == {DOOR: "mon-fri 07:00-19:00"}

        dialog = PersonDialog(store, store.person(obama.id))
        qtbot.addWidget(dialog)
        assert [dialog.group.itemText(i) for i in range(dialog.group.count())] == ["No group", "Staff"]
        dialog.group.setCurrentIndex(dialog.group.findData("Staff"))
        dialog.accept()
        assert store.person(obama.id).group == "Staff"

        holidays = page.holidays
        qtbot.keyClicks(holidays.name, "Founders' Day")
        holidays.day.setDate(QDate(2026, 6, 1))
        assert holidays.closed.isChecked()
        click(qtbot, holidays.add_button)
        assert [h.name for h in store.holidays()] == ["Founders' Day"]
        assert holidays.table.item(0, 3).text() == "closed all day"

        engine.clock.advance(CONFIG.cooldown + LOOK)
        [refused] = appearance(engine, face)
        assert refused.outcome is Outcome.NOT_ALLOWED
        assert refused.message == "Barack Obama: Door 'Front door' is closed on holiday 'Founders' Day' (2026-06-01)."

        holidays.table.selectRow(0)
        click(qtbot, holidays.delete_button)
        assert store.holidays() == []
        engine.clock.advance(CONFIG.cooldown + LOOK)
        assert [d.outcome for d in appearance(engine, face)] == [Outcome.GRANTED]
        assert [e.reason for e in kiosk_store.events(newest_first=False)] == ["granted", "not_allowed", "granted"]


def test_holiday_hours_are_checked_as_they_are_typed(qtbot, page, store):
    holidays = page.holidays
    qtbot.keyClicks(holidays.name, "Christmas Eve")
    holidays.day.setDate(QDate(2026, 12, 24))
    holidays.yearly.setChecked(True)
    holidays.closed.setChecked(False)
    assert not holidays.add_button.isEnabled() and "Bad time window ''" in holidays.hours_problem.text()
    qtbot.keyClicks(holidays.hours, "09:00-12:00")
    click(qtbot, holidays.add_button)
    [eve] = store.holidays()
    assert (eve.day, eve.yearly, eve.hours) == (date(2026, 12, 24), True, "09:00-12:00")
    assert [holidays.table.item(0, c).text() for c in range(4)] == [
        "Christmas Eve",
        "12-24",
        "every year",
        "open only 09:00–12:00",
    ]
    holidays.name.setText("Noël")  # a second yearly holiday that day is refused with the reason
    click(qtbot, holidays.add_button)
    assert page.message.is_error and "both fall on every year on 12-24" in page.message.text()
    holidays.table.selectRow(0)
    holidays.closed.setChecked(True)
    click(qtbot, holidays.update_button)
    assert store.holidays()[0].hours is None


def test_renaming_and_deleting_a_group_moves_and_warns_about_its_people(qtbot, page, store, monkeypatch):
    store.add_access_group("Staff", doors={DOOR: "24/7"})
    ada = store.add_person("Ada Lovelace", group="Staff")
    page.reload()
    page.name.clear()
    qtbot.keyClicks(page.name, "Employees")
    page.observe_holidays.setChecked(False)
    click(qtbot, page.save_button)
    assert store.person(ada.id).group == "Employees"
    assert not store.access_groups()[0].observe_holidays
    asked, answer = [], [QMessageBox.StandardButton.No]
    monkeypatch.setattr(QMessageBox, "question", lambda parent, title, text, *rest: asked.append(text) or answer[0])
    click(qtbot, page.delete_group_button)
    assert store.access_groups() != [] and "1 person is in it: they will be refused at every door" in asked[0]
    answer[0] = QMessageBox.StandardButton.Yes
    click(qtbot, page.delete_group_button)
    assert store.access_groups() == [] and page.groups.count() == 0
    assert not page.save_button.isEnabled()


def test_a_door_listed_twice_or_unnamed_cannot_be_saved(qtbot, page, store):
    add_group(qtbot, page, "Staff")
    click(qtbot, page.add_door_button)
    click(qtbot, page.add_door_button)
    first, second = page.rows
    second.door.setCurrentText(DOOR)
    assert page.problem.text() == f"Door '{DOOR}' is listed twice: give it one schedule."
    assert not page.save_button.isEnabled()
    second.door.setCurrentText(" ")
    assert "Name the door" in page.problem.text()
    click(qtbot, second.remove)
    qtbot.waitUntil(lambda: len(page.rows) == 1)
    click(qtbot, page.save_button)
    assert dict(store.access_groups()[0].doors) == {DOOR: "24/7"}


def test_an_unknown_time_zone_is_refused_and_the_settings_page_keeps_the_saved_one(qtbot, page, store):
    page.time_zone.setCurrentText("Europe/Pariss")
    click(qtbot, page.save_zone_button)
    assert page.message.is_error and "Unknown time zone 'Europe/Pariss'" in page.message.text()
    page.time_zone.setCurrentText("America/New_York")
    click(qtbot, page.save_zone_button)
    settings = SettingsPage(store)
    qtbot.addWidget(settings)
    settings.save()
    assert site_time_zone(store) == "America/New_York"
    settings.close()


def test_the_group_is_free_text_until_groups_are_defined_and_an_unknown_one_is_kept(qtbot, store):
    ada = store.add_person("Ada Lovelace", group="night crew")
    dialog = PersonDialog(store, ada)
    qtbot.addWidget(dialog)
    assert dialog.group.isEditable() and dialog.group.currentText() == "night crew"
    assert dialog.changes() == {}
    store.add_access_group("Staff")
    dialog = PersonDialog(store, ada)
    qtbot.addWidget(dialog)
    assert not dialog.group.isEditable()
    assert dialog.group.currentText() == "night crew (not a defined group: refused at every door)"
    assert dialog.changes() == {}
    dialog.group.setCurrentIndex(0)
    assert dialog.changes() == {"group": None}


def test_the_access_log_filters_by_door(qtbot, store):
    for door in ("Lab", DOOR, "Lab"):
        store.log_event("unknown", "unknown", door=door)
    log = AccessLogPage(store)
    qtbot.addWidget(log)
    assert [log.door.itemText(i) for i in range(log.door.count())] == ["All doors", DOOR, "Lab"]
    assert log.table.rowCount() == 3
    log.door.setCurrentIndex(log.door.findData("Lab"))
    assert log.table.rowCount() == 2 and {event.door for event in log.events} == {"Lab"}
    store.log_event("unknown", "unknown", door="Garage")
    assert log.poll()
    assert log.door.currentData() == "Lab" and log.door.findData("Garage") > 0
    log.close()
