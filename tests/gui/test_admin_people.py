"""The admin window's People page on a real database file with real faces, driven through its widgets."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import cv2
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QDate, QDateTime, Qt, QTime
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QMessageBox

import faceguard.store.db
from faceguard.app.enrollment import prepare_template
from faceguard.app.settings import KioskSettings, load_settings
from faceguard.core.errors import NotFoundError
from faceguard.gui.admin.people import PeoplePage
from faceguard.gui.admin.person_dialog import PersonDialog
from faceguard.gui.admin.window import AdminWindow
from faceguard.gui.pipeline_loader import EngineLoader
from faceguard.store.repository import Store
from faceguard.vision.image_io import read_image

from ..conftest import DATA


@pytest.fixture(scope="module")
def faces(pipeline, photo):
    """Encoded faces of obama.jpg and biden.jpg, made once for the module (enrolling is then instant)."""
    return {name: prepare_template(pipeline, photo(name), f"photo:{name}")[0] for name in ("obama.jpg", "biden.jpg")}


@pytest.fixture
def people(store, faces):
    obama = store.enroll("Barack Obama", faces["obama.jpg"], badge="B1", group="staff")
    biden = store.enroll("Joe Biden", faces["biden.jpg"], badge="B2", group="visitors")
    return obama, biden


def open_page(qtbot, store, engine):
    page = PeoplePage(store, engine, KioskSettings())
    qtbot.addWidget(page)
    page.show()
    return page


@pytest.fixture
def page(qtbot, store, people, pipeline):
    return open_page(qtbot, store, EngineLoader.loaded(pipeline))


def names(page):
    return [page.model.index(row, 1).data() for row in range(page.model.rowCount())]


def cells(page, name):
    row = names(page).index(name)
    return [page.model.index(row, column).data() for column in range(1, page.model.columnCount())]


def select(page, name):
    page.table.selectRow(names(page).index(name))
    assert page.selected_person().name == name


def choose_file(monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(path), ""))


def save(qtbot, dialog):
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)


def test_lists_everyone_with_their_face_and_search_filters_as_you_type(page, qtbot):
    assert names(page) == ["Barack Obama", "Joe Biden"]
    assert cells(page, "Barack Obama") == ["Barack Obama", "B1", "staff", "active", "no limit", "1"]
    face = page.model.index(0, 0).data(Qt.ItemDataRole.DecorationRole)
    assert not face.isNull() and max(face.width(), face.height()) == 64
    qtbot.keyClicks(page.search, "bid")
    assert names(page) == ["Joe Biden"]
    page.search.clear()
    qtbot.keyClicks(page.search, "STAFF")  # groups and badges match too, in any case
    assert names(page) == ["Barack Obama"]
    page.search.setText("B2")
    assert names(page) == ["Joe Biden"]
    page.search.setText("nobody")
    assert names(page) == [] and not page.edit_button.isEnabled()


def test_status_and_validity_follow_the_dates(page, store):
    past, future = datetime(2020, 1, 1, 23, 59).astimezone(), datetime.now().astimezone() + timedelta(days=30)
    store.add_person("Ada Expired", valid_until=past)
    store.add_person("Grace Later", valid_from=future.replace(second=0, microsecond=0))
    page.reload()
    assert cells(page, "Ada Expired")[3:] == ["expired", "until 2020-01-01 23:59", "0"]
    assert cells(page, "Grace Later")[3:5] == ["not yet valid", f"from {future:%Y-%m-%d %H:%M}"]
    no_photo = page.model.index(names(page).index("Ada Expired"), 0).data(Qt.ItemDataRole.DecorationRole)
    assert no_photo.isNull()


def test_deactivate_activate_and_hide_inactive(page, store, people, qtbot):
    obama, _ = people
    select(page, "Barack Obama")
    assert page.active_button.text() == "Deactivate"
    qtbot.mouseClick(page.active_button, Qt.MouseButton.LeftButton)
    assert not store.person(obama.id).active
    assert cells(page, "Barack Obama")[3] == "inactive" and page.active_button.text() == "Activate"
    assert "deactivated" in page.message.text() and not page.message.is_error
    page.show_inactive.setChecked(False)
    assert names(page) == ["Joe Biden"]
    page.show_inactive.setChecked(True)
    select(page, "Barack Obama")
    qtbot.mouseClick(page.active_button, Qt.MouseButton.LeftButton)
    assert store.person(obama.id).active and cells(page, "Barack Obama")[3] == "active"


def test_double_click_edits_name_validity_and_notes(page, store, people, qtbot):
    obama, _ = people
    index = page.model.index(names(page).index("Barack Obama"), 1)
    centre = page.table.visualRect(index).center()
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseDClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    dialog = page.findChild(PersonDialog)
    assert dialog.isVisible() and dialog.name.text() == "Barack Obama" and dialog.valid_until.no_limit.isChecked()
    dialog.name.setText("Barack H. Obama")
    dialog.valid_until.no_limit.setChecked(False)
    dialog.valid_until.edit.setDateTime(QDateTime(QDate(2030, 12, 31), QTime(23, 59)))
    dialog.notes.setPlainText("Night shift")
    save(qtbot, dialog)
    assert not dialog.isVisible()
    stored = store.person(obama.id)
    assert (stored.name, stored.badge, stored.notes) == ("Barack H. Obama", "B1", "Night shift")
    assert stored.valid_until == datetime(2030, 12, 31, 23, 59).astimezone() and stored.valid_from is None
    assert cells(page, "Barack H. Obama")[:5] == ["Barack H. Obama", "B1", "staff", "active", "until 2030-12-31 23:59"]


def test_refused_changes_are_explained_in_the_dialog_which_keeps_the_input(page, store, people, qtbot):
    _, biden = people
    select(page, "Joe Biden")
    qtbot.mouseClick(page.edit_button, Qt.MouseButton.LeftButton)
    dialog = page.findChild(PersonDialog)
    dialog.badge.setText("B1")
    save(qtbot, dialog)
    assert dialog.isVisible() and dialog.error.text() == "Badge B1 already belongs to Barack Obama."
    assert dialog.badge.text() == "B1" and store.person(biden.id).badge == "B2"

    dialog.badge.setText("B9")
    dialog.valid_from.no_limit.setChecked(False)
    dialog.valid_from.edit.setDateTime(QDateTime(QDate(2030, 1, 1), QTime(8, 0)))
    dialog.valid_until.no_limit.setChecked(False)
    dialog.valid_until.edit.setDateTime(QDateTime(QDate(2029, 1, 1), QTime(8, 0)))
    save(qtbot, dialog)
    assert dialog.isVisible() and "before" in dialog.error.text()
    dialog.valid_until.no_limit.setChecked(True)
    dialog.name.setText("  ")
    save(qtbot, dialog)
    assert dialog.isVisible() and dialog.error.text() == "Enter the person's name."
    assert store.person(biden.id) == biden

    dialog.name.setText("Joe Biden")
    save(qtbot, dialog)
    assert not dialog.isVisible()
    stored = store.person(biden.id)
    assert (stored.badge, stored.valid_from, stored.valid_until) == ("B9", datetime(2030, 1, 1, 8).astimezone(), None)


def test_add_photo_encodes_in_the_background_and_stores_the_template(page, store, people, qtbot, monkeypatch):
    obama, _ = people
    choose_file(monkeypatch, DATA / "obama2.jpg")
    select(page, "Barack Obama")
    qtbot.mouseClick(page.add_photo_button, Qt.MouseButton.LeftButton)
    assert page.message.text() == "Checking obama2.jpg…"
    qtbot.waitUntil(lambda: store.person(obama.id).templates == 2, timeout=20000)
    assert [t.source for t in store.templates(obama.id)] == ["photo:obama.jpg", "photo:obama2.jpg"]
    assert cells(page, "Barack Obama")[-1] == "2"
    assert page.message.text() == "Added obama2.jpg to Barack Obama (2 photos)." and not page.message.is_error


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("coffee.jpg", "coffee.jpg was not added to Barack Obama: No face was found in the photo. Use a clear"),
        ("notes.jpg", "notes.jpg was not added to Barack Obama: 'notes.jpg' is not an image file"),
    ],
)
def test_an_unusable_photo_is_explained_and_adds_nothing(
    page, store, people, qtbot, monkeypatch, tmp_path, name, expected
):
    obama, _ = people
    path = DATA / name if (DATA / name).exists() else tmp_path / name
    if not path.exists():
        path.write_text("meeting notes, not a photo")
    choose_file(monkeypatch, path)
    select(page, "Barack Obama")
    qtbot.mouseClick(page.add_photo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.message.is_error, timeout=20000)
    assert page.message.text().startswith(expected)
    assert store.person(obama.id).templates == 1 and cells(page, "Barack Obama")[-1] == "1"


@pytest.mark.parametrize("answer", [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes], ids=["no", "yes"])
def test_a_photo_below_the_recommended_quality_is_added_only_when_the_admin_says_so(
    page, store, people, qtbot, monkeypatch, tmp_path, photo, pipeline, answer
):
    obama, _ = people
    path = tmp_path / "soft.png"
    # sigma 8 on a 265-px face: sharpness ~7, usable but below the recommended limit
    Image.fromarray(cv2.GaussianBlur(photo("obama2.jpg"), (0, 0), 8)).save(path)
    warning = pipeline.enroll(read_image(path), accept_low_quality=True)[0].accepted_below
    assert warning is not None and "blurred" in warning
    asked = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda parent, title, text, buttons, default: asked.append((title, text, default)) or answer,
    )
    choose_file(monkeypatch, path)
    select(page, "Barack Obama")
    qtbot.mouseClick(page.add_photo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(asked), timeout=20000)
    assert asked == [
        (
            "Photo below the recommended quality",
            f"soft.png is below the recommended quality:\n\n{warning}\n\nAdd it to Barack Obama anyway? "
            "Recognition may be less reliable; the warning is recorded with the photo.",
            QMessageBox.StandardButton.No,
        )
    ]
    if answer == QMessageBox.StandardButton.No:
        assert page.message.text() == "soft.png was not added to Barack Obama." and not page.message.is_error
        assert [t.source for t in store.templates(obama.id)] == ["photo:obama.jpg"]
    else:
        assert page.message.text() == "Added soft.png to Barack Obama (2 photos)."
        assert [(t.source, t.accepted_below) for t in store.templates(obama.id)] == [
            ("photo:obama.jpg", None),
            ("photo:soft.png", warning),
        ]


def test_an_unusable_photo_is_never_offered_for_adding_anyway(page, store, people, qtbot, monkeypatch, tmp_path, photo):
    obama, _ = people
    path = tmp_path / "group.png"
    Image.fromarray(np.hstack([photo("obama.jpg"), photo("obama.jpg")])).save(path)
    monkeypatch.setattr(QMessageBox, "question", lambda *args: pytest.fail("offered to add an unusable photo"))
    choose_file(monkeypatch, path)
    select(page, "Barack Obama")
    qtbot.mouseClick(page.add_photo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.message.is_error, timeout=20000)
    assert page.message.text() == (
        "group.png was not added to Barack Obama: 2 faces were found in the photo; it must show exactly one person."
    )
    assert store.person(obama.id).templates == 1


def test_add_photo_waits_for_the_engine(qtbot, store, people, monkeypatch):
    page = open_page(qtbot, store, EngineLoader())
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: pytest.fail("asked for a photo"))
    select(page, "Joe Biden")
    qtbot.mouseClick(page.add_photo_button, Qt.MouseButton.LeftButton)
    assert page.message.is_error and page.message.text() == "The face engine is still loading; try again in a moment."


def test_delete_says_what_is_erased_and_only_erases_when_confirmed(page, store, people, faces, qtbot, monkeypatch):
    obama, _ = people
    event = store.log_event("granted", "granted", person_id=obama.id, snapshot=faces["obama.jpg"].thumbnail.jpeg)
    asked, answer = [], [QMessageBox.StandardButton.No]
    monkeypatch.setattr(QMessageBox, "question", lambda parent, title, text, *rest: asked.append(text) or answer[0])
    select(page, "Barack Obama")
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert store.person(obama.id) == obama and names(page) == ["Barack Obama", "Joe Biden"]
    assert asked[0].startswith("Erase Barack Obama (badge B1)?")
    assert "their 1 face photo and the face snapshots" in asked[0] and f"pseudonym {obama.pseudonym}" in asked[0]

    answer[0] = QMessageBox.StandardButton.Yes
    qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    with pytest.raises(NotFoundError):
        store.person(obama.id)
    assert names(page) == ["Joe Biden"] and page.message.text().startswith("Erased Barack Obama.")
    (logged,) = store.events()
    assert (logged.person_name, logged.subject, store.event_snapshot(event)) == (None, obama.pseudonym, None)


def test_a_locked_database_is_reported_and_nothing_is_lost(qtbot, tmp_path, people, pipeline, monkeypatch):
    """Another program holds the write lock: the page and the dialog say so, and every value stays."""
    obama, _ = people
    monkeypatch.setattr(faceguard.store.db, "BUSY_TIMEOUT_MS", 1000)
    with Store.open(tmp_path / "faceguard.db") as store:
        page = open_page(qtbot, store, EngineLoader.loaded(pipeline))
        blocker = sqlite3.connect(tmp_path / "faceguard.db")
        blocker.execute("BEGIN IMMEDIATE")
        select(page, "Barack Obama")
        qtbot.mouseClick(page.active_button, Qt.MouseButton.LeftButton)
        assert page.message.is_error and "locked by another program" in page.message.text()
        qtbot.mouseClick(page.edit_button, Qt.MouseButton.LeftButton)
        dialog = page.findChild(PersonDialog)
        dialog.name.setText("Barack H. Obama")
        save(qtbot, dialog)
        assert dialog.isVisible() and "locked by another program" in dialog.error.text()
        blocker.rollback()
        blocker.close()
        assert store.person(obama.id) == obama
        save(qtbot, dialog)  # the same input saves once the other program lets go
        assert not dialog.isVisible() and store.person(obama.id).name == "Barack H. Obama"
        page.close()


def test_changes_by_another_program_appear_after_the_poll(page, store, people, faces, qtbot):
    obama, biden = people
    with Store.open(store.path) as other:
        other.update_person(biden.id, name="Joseph R. Biden")
        other.add_template(obama.id, faces["obama.jpg"])
    qtbot.waitUntil(lambda: "Joseph R. Biden" in names(page), timeout=6000)
    assert cells(page, "Barack Obama")[-1] == "2"


def test_the_enrollment_wizard_opens_and_its_new_person_is_listed_and_selected(page, store, faces, qtbot):
    from faceguard.gui.admin.wizard import EnrollmentWizard

    qtbot.mouseClick(page.enroll_button, Qt.MouseButton.LeftButton)
    wizard = page.findChild(EnrollmentWizard)
    assert wizard.isVisible()
    person = store.enroll("Ada Lovelace", faces["obama.jpg"], badge="B3")
    wizard.enrolled.emit(person.id)  # what the wizard emits once it has stored the person
    assert names(page) == ["Ada Lovelace", "Barack Obama", "Joe Biden"]
    assert page.selected_person().id == person.id


def test_admin_window_shows_the_database_engine_and_counts(qtbot, store, people, pipeline):
    window = AdminWindow(store, EngineLoader.loaded(pipeline), KioskSettings(site_name="Harbour office"))
    qtbot.addWidget(window)
    window.show()
    assert window.windowTitle() == "FaceGuard admin — Harbour office"
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == [
        "People",
        "Access log",
        "Doors && groups",  # "&&" shows one "&"
        "Settings",
    ]
    assert window.database_label.text() == str(store.path)
    assert window.engine_label.text() == f"Face engine ready ({pipeline.spec.id})"
    assert window.counts_label.text() == "2 people · 0 access events"
    with Store.open(store.path) as kiosk:
        kiosk.log_event("unknown", "unknown", door="Main door")
    qtbot.waitUntil(lambda: window.counts_label.text() == "2 people · 1 access event", timeout=6000)
    assert window.access_log.table.rowCount() == 1


def test_admin_window_reports_an_engine_that_cannot_load(qtbot, store, people):
    engine = EngineLoader()
    window = AdminWindow(store, engine, KioskSettings(model="no-such-model"))
    qtbot.addWidget(window)
    assert window.engine_label.text() == "Loading face engine…"
    qtbot.waitUntil(lambda: "failed" in window.engine_label.text(), timeout=20000)
    assert "Unknown model 'no-such-model'" in window.engine_label.text()
    window.people.table.selectRow(0)
    qtbot.mouseClick(window.people.add_photo_button, Qt.MouseButton.LeftButton)
    assert window.people.message.text().startswith("The face engine could not be loaded:")


def test_the_settings_tab_is_built_when_opened_and_a_saved_site_name_becomes_the_title(qtbot, store, people, pipeline):
    from faceguard.gui.admin.settings_page import SettingsPage

    window = AdminWindow(store, EngineLoader.loaded(pipeline), KioskSettings())
    qtbot.addWidget(window)
    window.show()
    assert window.findChild(SettingsPage) is None
    window.tabs.setCurrentWidget(window.settings_tab)
    page = window.findChild(SettingsPage)
    page.site_name.setText("Harbour office")
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert load_settings(store).site_name == "Harbour office"
    assert window.windowTitle() == "FaceGuard admin — Harbour office"
    assert window.people.settings.site_name == "Harbour office"
