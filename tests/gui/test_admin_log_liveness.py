"""The Access log page on a real database file shows each decision's liveness outcome in the table, and
the selected event's liveness checks and door action beside its face."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from faceguard.gui.admin.access_log import COLUMNS, AccessLogPage
from faceguard.store.events import LivenessRecord
from tests.store_helpers import new_template

NOW = datetime.now().astimezone()


@pytest.fixture
def logged(store):
    """Five decisions about Barack Obama (#1) and a stranger, newest first as the page lists them."""
    obama = store.enroll("Barack Obama", new_template()).id
    events = [
        ("granted", "granted", obama, LivenessRecord("active", True, None, 0.31), "Door unlocked for 4 s."),
        ("denied", "not_live", obama, LivenessRecord("passive", False, 0.12, None), None),
        ("denied", "not_live", obama, LivenessRecord("both", False, 0.97, 0.05), None),
        ("denied", "not_live", obama, LivenessRecord("active", False, None, None), None),  # the face left
        ("unknown", "unknown", None, None, None),
        ("granted", "granted", obama, None, "The door did not open: the relay answered 503."),  # liveness off
    ]
    for age, (decision, reason, person, liveness, door_action) in enumerate(events):
        store.log_event(
            decision,
            reason,
            time=NOW - timedelta(minutes=age),
            person_id=person,
            door="front",
            liveness=liveness,
            door_action=door_action,
            message=f"{reason} event",
        )
    return store


@pytest.fixture
def page(qtbot, logged):
    page = AccessLogPage(logged)
    qtbot.addWidget(page)
    page.show()
    return page


def cells(page: AccessLogPage, name: str) -> list[str]:
    number = COLUMNS.index(name)
    return [page.table.item(row, number).text() for row in range(page.table.rowCount())]


def test_the_table_shows_each_liveness_outcome_with_its_measures(page):
    assert COLUMNS[-2:] == ("Liveness", "Message") and page.table.columnCount() == len(COLUMNS)
    assert page.table.horizontalHeaderItem(COLUMNS.index("Liveness")).text() == "Liveness"
    assert cells(page, "Liveness") == [
        "active: passed (turn 0.31)",
        "passive: failed (live 0.12)",
        "both: failed (turn 0.05, live 0.97)",
        "active: failed",
        "",
        "",
    ]
    assert cells(page, "Message")[1] == "not_live event"  # the message keeps its own column
    column = COLUMNS.index("Liveness")
    backgrounds = [page.table.item(row, column).background().color().name() for row in range(4)]
    assert backgrounds[0] != backgrounds[1] and backgrounds[1:] == [backgrounds[1]] * 3  # failures stand out


@pytest.mark.parametrize(
    ("row", "details"),
    [
        (0, "Liveness: active: passed (turn 0.31)\nDoor: Door unlocked for 4 s."),
        (1, "Liveness: passive: failed (live 0.12)\nDoor: not opened"),
        (4, "Liveness: not checked\nDoor: not opened"),
        (5, "Liveness: not checked\nDoor: The door did not open: the relay answered 503."),
    ],
)
def test_the_selected_event_shows_its_liveness_checks_and_door_action(page, row, details):
    assert page.details.text() == ""
    page.table.selectRow(row)
    assert page.details.isVisible() and page.details.text() == details
    page.table.clearSelection()
    assert page.details.text() == ""
