"""The admin window's Access log page on a real database file: filters, snapshots, CSV export, polling."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QFileDialog

from faceguard.app.enrollment import prepare_template
from faceguard.cli import main
from faceguard.gui.admin.access_log import AccessLogPage
from faceguard.store.repository import Store

TODAY = date.today()


def at(days_ago: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(TODAY - timedelta(days=days_ago), time(hour, minute)).astimezone()


@pytest.fixture(scope="module")
def face(pipeline, photo):
    return prepare_template(pipeline, photo("obama.jpg"), "photo:obama.jpg")[0]


@pytest.fixture
def store(tmp_path, face):
    """Barack Obama (#1) and four events: granted today 00:30 (with his face), an unknown face yesterday,
    Obama denied 3 days ago, a face too poor to judge 10 days ago (outside the default 7 days)."""
    with Store.open(tmp_path / "faceguard.db") as opened:
        obama = opened.enroll("Barack Obama", face, badge="B1")
        opened.log_event(
            "granted",
            "granted",
            time=at(0, 0, 30),
            person_id=obama.id,
            door="front",
            distance=0.35,
            threshold=0.6,
            model_id=face.model_id,
            message="Access granted: Barack Obama.",
            snapshot=face.thumbnail.jpeg,
        )
        opened.log_event(
            "unknown", "unknown", time=at(1, 12), door="back", distance=0.8, latency_ms=12.5, message="Unknown face."
        )
        opened.log_event(
            "denied",
            "expired",
            time=at(3, 12),
            person_id=obama.id,
            door="front",
            distance=0.41,
            message="Barack Obama was valid until 2026-01-01.",
        )
        opened.log_event("rejected-quality", "low_quality", time=at(10, 9), door="front")
        yield opened


@pytest.fixture
def page(qtbot, store):
    page = AccessLogPage(store)
    qtbot.addWidget(page)
    page.show()
    return page


def column(page, number):
    return [page.table.item(row, number).text() for row in range(page.table.rowCount())]


def choose(combo, text):
    combo.setCurrentIndex(combo.findText(text))
    assert combo.currentText() == text


def test_the_last_seven_days_newest_first_in_local_time_with_coloured_decisions(page):
    assert column(page, 2) == ["granted", "unknown", "denied"] and page.summary.text() == "3 events"
    assert page.table.item(0, 0).text() == f"{TODAY.isoformat()} 00:30:00"
    assert column(page, 4) == ["#1 Barack Obama", "", "#1 Barack Obama"]
    assert column(page, 5) == ["0.350", "0.800", "0.410"]
    assert column(page, 7)[1] == "Unknown face."  # after the liveness column
    colours = {page.table.item(row, 2).background().color().name() for row in range(3)}
    assert len(colours) == 3


def test_filters_by_decision_person_and_dates(page):
    choose(page.decision, "unknown")
    assert column(page, 2) == ["unknown"]
    choose(page.decision, "All decisions")
    choose(page.person, "Barack Obama (#1)")
    assert column(page, 2) == ["granted", "denied"]
    page.since.setDate(QDate(TODAY))
    assert column(page, 2) == ["granted"]
    choose(page.person, "Anyone")
    page.since.setDate(QDate(TODAY - timedelta(days=10)))
    assert column(page, 2) == ["granted", "unknown", "denied", "rejected-quality"]
    page.until.setDate(QDate(TODAY - timedelta(days=2)))
    assert column(page, 2) == ["denied", "rejected-quality"]
    page.until.setDate(QDate(TODAY - timedelta(days=11)))
    assert page.table.rowCount() == 0 and page.message.is_error
    assert page.message.text() == "The “From” date is after the “Until” date."


def test_selecting_an_event_shows_its_face_snapshot(page, qtbot):
    qtbot.mouseClick(
        page.table.viewport(), Qt.MouseButton.LeftButton, pos=page.table.visualItemRect(page.table.item(0, 1)).center()
    )
    snapshot = page.snapshot.pixmap()
    assert not snapshot.isNull() and max(snapshot.width(), snapshot.height()) == 240
    page.table.selectRow(1)
    assert page.snapshot.pixmap().isNull() and page.snapshot.text() == "No snapshot"


def test_export_writes_the_filtered_events_exactly_as_the_cli_does(page, store, qtbot, monkeypatch, tmp_path, capsys):
    since = TODAY - timedelta(days=10)
    page.since.setDate(QDate(since))
    choose(page.person, "Barack Obama (#1)")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(tmp_path / "gui.csv"), "CSV files (*.csv)"))
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.message.text() == f"Wrote 2 events to {tmp_path / 'gui.csv'}.", timeout=5000)
    assert (
        main(
            [
                "events",
                "--db",
                str(store.path),
                "--person",
                "#1",
                "--since",
                since.isoformat(),
                "--until",
                TODAY.isoformat(),
                "--csv",
                str(tmp_path / "cli.csv"),
            ]
        )
        == 0
    )
    gui, cli = (tmp_path / "gui.csv").read_bytes(), (tmp_path / "cli.csv").read_bytes()
    assert gui == cli and gui.count(b"\n") == 3 and b"Barack Obama was valid until" in gui


def test_an_export_that_cannot_be_written_is_explained(page, qtbot, monkeypatch, tmp_path):
    target = tmp_path / "no such folder" / "log.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(target), ""))
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.message.is_error, timeout=5000)
    assert page.message.text().startswith(f"Cannot write {target}: No such file or directory")
    assert page.export_button.isEnabled() and not target.exists()


def test_new_events_and_erasures_by_other_programs_appear_after_the_poll(page, store, qtbot):
    page.table.selectRow(0)  # the granted event stays selected across the reload
    with Store.open(store.path) as kiosk:
        kiosk.log_event("granted", "granted", person_id=1, door="front")
        pseudonym = kiosk.remove_person(1).pseudonym
    qtbot.waitUntil(lambda: page.table.rowCount() == 4, timeout=6000)
    assert column(page, 4) == [pseudonym] * 2 + ["", pseudonym]
    assert [page.person.itemText(i) for i in range(page.person.count())] == ["Anyone"]
    assert page.selected_event().time == at(0, 0, 30) and page.snapshot.text() == "No snapshot"  # erased with him


def test_a_range_that_ends_today_still_ends_today_after_midnight(page, store):
    yesterday = QDate(TODAY - timedelta(days=1))
    page.today = yesterday  # as if the page had been opened yesterday and left open
    page.until.setDate(yesterday)
    assert column(page, 2) == ["unknown", "denied"]
    store.log_event("granted", "granted", person_id=1, door="front")
    assert page.poll()
    assert page.until.date() == QDate(TODAY) and column(page, 2)[:2] == ["granted", "granted"]
