"""The enrollment wizard with real widgets, the real engine, a real database file and real photos.

A folder of photos stands in for the webcam (``faceguard.vision.camera`` plays it as a slide show)."""

from __future__ import annotations

import math
import re
import shutil
from datetime import UTC, date, datetime, timedelta

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QDialog, QFileDialog, QWizard

from faceguard.app.enrollment import quality_text
from faceguard.app.settings import KioskSettings
from faceguard.gui.admin.common import WARNING_STYLE
from faceguard.gui.admin.wizard import CHECK, DETAILS, DONE, SOURCE, EnrollmentWizard
from faceguard.gui.pipeline_loader import EngineLoader
from faceguard.store.repository import Store
from faceguard.vision.image_io import read_image
from faceguard.vision.quality import QualityReport, QualityThresholds
from faceguard.vision.thumbnail import decode_thumbnail
from tests.conftest import DATA

WAIT = 10_000


@pytest.fixture
def make_wizard(qtbot, store, pipeline):
    """A shown wizard on the test database; ``camera`` is the kiosk's camera source."""

    def make(camera: str = "0", engine: EngineLoader | None = None, **options) -> EnrollmentWizard:
        settings = KioskSettings(camera=camera, device="cpu", **options.pop("settings", {}))
        wizard = EnrollmentWizard(
            store,
            engine or EngineLoader.loaded(pipeline),
            settings,
            countdown_ms=options.pop("countdown_ms", 250),
            **options,
        )
        qtbot.addWidget(wizard)
        wizard.show()
        return wizard

    return make


def folder_with(tmp_path, *names: str) -> str:
    """A camera stand-in: a folder holding copies of the named test photos."""
    folder = tmp_path / "camera"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(DATA / name, folder / name)
    return str(folder)


def write_rgb(path, image: np.ndarray) -> str:
    assert cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return str(path)


def click(qtbot, widget) -> None:
    assert widget.isEnabled() and widget.isVisible()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def choose_file(qtbot, monkeypatch, wizard: EnrollmentWizard, path) -> None:
    """Pick ``path`` with "Choose a photo…" (the file dialog is the system edge) and go on to the check."""
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(path), "Photos"))
    click(qtbot, wizard.source_page.choose_button)
    assert wizard.source_page.path_edit.text() == str(path)
    click(qtbot, wizard.button(QWizard.WizardButton.NextButton))
    assert wizard.currentId() == CHECK


def wait_for_check(qtbot, wizard: EnrollmentWizard) -> None:
    page = wizard.check_page
    qtbot.waitUntil(lambda: page.isComplete() or page.retry_button.isVisible(), timeout=WAIT)


def fill_details(qtbot, wizard: EnrollmentWizard, name: str, badge: str = "", consent: bool = True) -> None:
    page = wizard.details_page
    qtbot.keyClicks(page.name_edit, name)
    qtbot.keyClicks(page.badge_edit, badge)
    if consent:
        click(qtbot, page.consent_check)


def enroll_button(wizard: EnrollmentWizard):
    return wizard.button(QWizard.WizardButton.CommitButton)


def go_to_details(qtbot, monkeypatch, wizard: EnrollmentWizard, path) -> None:
    choose_file(qtbot, monkeypatch, wizard, path)
    wait_for_check(qtbot, wizard)
    assert wizard.check_page.isComplete(), wizard.check_page.status_label.text()
    click(qtbot, wizard.button(QWizard.WizardButton.NextButton))
    assert wizard.currentId() == DETAILS


def table_counts(store: Store) -> dict[str, int]:
    tables = ["people", "templates", "template_thumbnails", "changes"]
    return {t: store.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


# --- from a photo file -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "max_yaw, shown", [(math.inf, "turned 0.12"), (0.3, "turned 0.12 (≤ 0.30)")], ids=["off", "on"]
)
def test_the_check_page_shows_a_limit_only_when_it_is_in_force(max_yaw, shown):
    report = QualityReport(
        face_size=200,
        eye_distance=80,
        sharpness=500,
        brightness=120,
        clipped=0,
        yaw=-0.12,
        pitch=0.55,
        detector_score=0.99,
    )
    limits = QualityThresholds(max_yaw=max_yaw)
    assert quality_text(report, limits) == (
        f"Face 200 px wide (≥ {limits.min_face_size:.0f}) · sharpness 500 (≥ "
        f"{limits.min_sharpness:.0f}) · brightness 120 ({limits.min_brightness:.0f}–"
        f"{limits.max_brightness:.0f}) · {shown}"
    )


def test_enroll_from_a_photo_file_end_to_end(qtbot, monkeypatch, make_wizard, store):
    wizard = make_wizard()
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    assert not next_button.isEnabled()  # no photo yet
    choose_file(qtbot, monkeypatch, wizard, DATA / "obama.jpg")
    page = wizard.check_page
    assert not next_button.isEnabled() and page.busy.isVisible()  # checking in the background
    assert page.status_label.text() == "Checking the photo…"
    wait_for_check(qtbot, wizard)
    assert page.isComplete() and next_button.isEnabled() and not page.busy.isVisible()
    assert page.face_label.pixmap().width() == 240  # the aligned face, shown large
    limits = QualityThresholds()
    assert re.fullmatch(
        rf"Face 228 px wide \(≥ {limits.min_face_size:.0f}\) · sharpness \d+ \(≥ "
        rf"{limits.min_sharpness:.0f}\) · brightness 139 \({limits.min_brightness:.0f}–"
        rf"{limits.max_brightness:.0f}\) · turned 0\.\d\d( \(≤ {limits.max_yaw:.2f}\))?",
        page.quality_label.text(),
    )
    click(qtbot, next_button)

    details = wizard.details_page
    fill_details(qtbot, wizard, "Barack Obama", badge=" 44 ")
    qtbot.keyClicks(details.group_edit, "staff")
    qtbot.keyClicks(details.notes_edit, "president")
    assert details.consent_check.text() == "Barack Obama agreed to have their face stored for door access"
    before = datetime.now(UTC) - timedelta(milliseconds=1)  # stored times keep milliseconds
    with qtbot.waitSignal(wizard.enrolled, timeout=WAIT) as enrolled:
        click(qtbot, enroll_button(wizard))
    after = datetime.now(UTC)

    assert wizard.currentId() == DONE
    [person] = store.people()
    assert enrolled.args == [person.id]
    assert wizard.done_page.result_label.text() == f"Enrolled Barack Obama (#{person.id})"
    assert (person.name, person.badge, person.group, person.notes, person.templates) == (
        "Barack Obama",
        "44",
        "staff",
        "president",
        1,
    )
    assert (person.valid_from, person.valid_until) == (None, None)
    assert before <= person.consent_at <= after and person.consent_method == "wizard"
    [template] = store.templates(person.id)
    assert template.source == "photo:obama.jpg" and template.quality["face_size"] == pytest.approx(227.7, abs=0.1)
    assert decode_thumbnail(store.thumbnail(template.id)).shape == (256, 256, 3)
    assert not wizard.button(QWizard.WizardButton.BackButton).isVisible()  # stored: no way back to edit
    click(qtbot, wizard.button(QWizard.WizardButton.FinishButton))
    assert wizard.result() == QDialog.DialogCode.Accepted and not wizard.isVisible()


def bad_photo(tmp_path, photo, kind: str) -> str:
    """A photo file that cannot be enrolled, derived from the test photos."""
    obama = photo("obama.jpg")
    if kind == "no face":
        return str(DATA / "coffee.jpg")
    if kind == "two faces":
        biden = cv2.resize(photo("biden.jpg"), (obama.shape[0] * 970 // 2204, obama.shape[0]))
        return write_rgb(tmp_path / "two.jpg", np.hstack([obama, biden]))
    if kind == "unreadable":
        path = tmp_path / "broken.jpg"
        path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
        return str(path)
    if kind == "missing":
        return str(tmp_path / "nowhere.jpg")
    if kind == "slightly blurred":
        return write_rgb(tmp_path / "soft.png", cv2.GaussianBlur(obama, (0, 0), 5))
    if kind == "blurred":
        return write_rgb(tmp_path / "blurred.jpg", cv2.GaussianBlur(obama, (0, 0), max(obama.shape) / 200))
    if kind == "dark":
        return write_rgb(tmp_path / "dark.jpg", (obama * 0.18).astype(np.uint8))
    assert kind == "tiny"
    return write_rgb(tmp_path / "tiny.jpg", cv2.resize(obama, None, fx=0.2, fy=0.2, interpolation=cv2.INTER_AREA))


@pytest.mark.parametrize(
    ("kind", "headline"),
    [
        ("no face", "No face found."),
        ("two faces", "2 faces found."),
        ("unreadable", "The file cannot be used."),
        ("missing", "The file cannot be used."),
    ],
)
def test_a_photo_that_cannot_be_enrolled_gets_specific_guidance_and_a_way_back(
    qtbot, monkeypatch, make_wizard, store, tmp_path, photo, kind, headline
):
    wizard = make_wizard()
    choose_file(qtbot, monkeypatch, wizard, bad_photo(tmp_path, photo, kind))
    wait_for_check(qtbot, wizard)
    page = wizard.check_page
    assert page.status_label.text().startswith(f"<b>{headline}</b> ")
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    assert page.face_label.pixmap().isNull() and not page.accept_check.isVisible()  # no way to enroll it anyway

    click(qtbot, page.retry_button)  # choose another photo: this one is good
    assert wizard.currentId() == SOURCE
    choose_file(qtbot, monkeypatch, wizard, DATA / "obama2.jpg")
    wait_for_check(qtbot, wizard)
    assert page.isComplete() and not page.retry_button.isVisible()
    assert not page.face_label.pixmap().isNull()
    assert table_counts(store)["people"] == 0


@pytest.mark.parametrize(("kind", "problem"), [("blurred", "blurred"), ("dark", "too dark"), ("tiny", "too small")])
def test_a_photo_below_the_recommended_quality_is_enrolled_only_once_the_admin_ticks_enroll_anyway(
    qtbot, monkeypatch, make_wizard, store, tmp_path, photo, pipeline, kind, problem
):
    path = bad_photo(tmp_path, photo, kind)
    warning = pipeline.enroll(read_image(path), accept_low_quality=True)[0].accepted_below
    wizard = make_wizard()
    choose_file(qtbot, monkeypatch, wizard, path)
    page, next_button = wizard.check_page, wizard.button(QWizard.WizardButton.NextButton)
    qtbot.waitUntil(page.accept_check.isVisible, timeout=WAIT)
    assert problem in warning
    assert page.status_label.text() == f"<b>Below the recommended quality.</b> {warning}"
    assert page.status_label.styleSheet() == WARNING_STYLE and page.retry_button.isVisible()
    assert page.accept_check.text() == "Enroll anyway (recognition may be less reliable)"
    assert not page.face_label.pixmap().isNull()  # the face that would be stored, to judge
    assert not page.accept_check.isChecked() and not next_button.isEnabled()
    click(qtbot, page.accept_check)
    assert next_button.isEnabled()
    click(qtbot, page.accept_check)  # unticked again
    assert not next_button.isEnabled()
    click(qtbot, page.accept_check)
    click(qtbot, next_button)
    fill_details(qtbot, wizard, "Barack Obama")
    click(qtbot, enroll_button(wizard))
    assert wizard.currentId() == DONE
    [template] = store.templates(store.people()[0].id)
    assert template.accepted_below == warning and template.quality["accepted_below"] == warning


def test_going_back_from_a_low_quality_photo_to_a_good_one_needs_no_ticking(
    qtbot, monkeypatch, make_wizard, store, tmp_path, photo
):
    wizard = make_wizard()
    choose_file(qtbot, monkeypatch, wizard, bad_photo(tmp_path, photo, "slightly blurred"))
    page = wizard.check_page
    qtbot.waitUntil(page.accept_check.isVisible, timeout=WAIT)
    click(qtbot, page.accept_check)
    click(qtbot, page.retry_button)
    choose_file(qtbot, monkeypatch, wizard, DATA / "obama.jpg")
    wait_for_check(qtbot, wizard)
    assert page.isComplete() and not page.accept_check.isVisible() and not page.accept_check.isChecked()
    assert page.status_label.text() == "Good photo. This is the face that will be stored:"
    click(qtbot, wizard.button(QWizard.WizardButton.NextButton))
    fill_details(qtbot, wizard, "Barack Obama")
    click(qtbot, enroll_button(wizard))
    [template] = store.templates(store.people()[0].id)
    assert template.accepted_below is None and "accepted_below" not in template.quality


def test_a_result_for_an_abandoned_photo_is_ignored(qtbot, monkeypatch, make_wizard):
    wizard = make_wizard()
    choose_file(qtbot, monkeypatch, wizard, DATA / "coffee.jpg")
    click(qtbot, wizard.button(QWizard.WizardButton.BackButton))  # before the check ended
    choose_file(qtbot, monkeypatch, wizard, DATA / "obama.jpg")
    qtbot.waitUntil(wizard.check_page.isComplete, timeout=WAIT)
    qtbot.wait(300)  # the coffee result, had it been applied, would have arrived by now
    assert wizard.check_page.isComplete() and not wizard.check_page.retry_button.isVisible()
    assert wizard.template.source == "photo:obama.jpg"


# --- details and consent ---------------------------------------------------------------------------


def test_enroll_needs_a_name_and_the_ticked_consent(qtbot, monkeypatch, make_wizard, store):
    wizard = make_wizard()
    go_to_details(qtbot, monkeypatch, wizard, DATA / "obama.jpg")
    page = wizard.details_page
    assert not enroll_button(wizard).isEnabled()
    qtbot.keyClicks(page.name_edit, "   ")
    click(qtbot, page.consent_check)
    assert page.consent_check.text() == "The person agreed to have their face stored for door access"
    assert not enroll_button(wizard).isEnabled()  # a blank name is no name
    qtbot.keyClicks(page.name_edit, "Barack Obama")
    assert enroll_button(wizard).isEnabled()
    click(qtbot, page.consent_check)  # unticked again
    assert not enroll_button(wizard).isEnabled()
    assert table_counts(store)["people"] == 0
    click(qtbot, page.consent_check)
    click(qtbot, enroll_button(wizard))
    assert wizard.currentId() == DONE and store.people()[0].name == "Barack Obama"


def test_a_taken_badge_keeps_the_user_on_details_with_the_message_and_writes_nothing(
    qtbot, monkeypatch, make_wizard, store
):
    store.add_person("Joe Biden", badge="46")
    before = table_counts(store)
    wizard = make_wizard()
    go_to_details(qtbot, monkeypatch, wizard, DATA / "obama.jpg")
    fill_details(qtbot, wizard, "Barack Obama", badge="46")
    qtbot.keyClicks(wizard.details_page.notes_edit, "keep me")
    with qtbot.assertNotEmitted(wizard.enrolled):
        click(qtbot, enroll_button(wizard))
    page = wizard.details_page
    assert wizard.currentId() == DETAILS
    assert page.error_label.text().startswith("Badge 46 already belongs to Joe Biden.")
    assert (page.name_edit.text(), page.badge_edit.text(), page.notes_edit.toPlainText()) == (
        "Barack Obama",
        "46",
        "keep me",
    )
    assert page.consent_check.isChecked()
    assert table_counts(store) == before

    page.badge_edit.clear()
    qtbot.keyClicks(page.badge_edit, "44")
    click(qtbot, enroll_button(wizard))
    assert wizard.currentId() == DONE and not page.error_label.text()
    assert store.person_by_badge("44").templates == 1


def test_access_that_ends_before_it_starts_is_refused_then_stored_as_whole_local_days(
    qtbot, monkeypatch, make_wizard, store
):
    wizard = make_wizard()
    go_to_details(qtbot, monkeypatch, wizard, DATA / "obama.jpg")
    fill_details(qtbot, wizard, "Barack Obama")
    page = wizard.details_page
    click(qtbot, page.from_check)
    click(qtbot, page.until_check)
    page.from_edit.setDate(QDate(2027, 1, 20))
    page.until_edit.setDate(QDate(2027, 1, 19))
    click(qtbot, enroll_button(wizard))
    assert wizard.currentId() == DETAILS
    assert page.error_label.text() == "The access cannot end before it starts: 'until' is before 'from'."
    assert table_counts(store)["people"] == 0

    page.until_edit.setDate(QDate(2027, 1, 20))  # a single day is fine
    click(qtbot, enroll_button(wizard))
    person = store.people()[0]
    assert person.valid_from == datetime(2027, 1, 20).astimezone()
    assert person.valid_until - person.valid_from == timedelta(days=1, microseconds=-1000)
    assert person.valid_until.astimezone().date() == date(2027, 1, 20)


@pytest.mark.parametrize("step", [CHECK, DETAILS])
def test_cancelling_writes_nothing_and_leaves_no_thread_running(qtbot, monkeypatch, make_wizard, store, step):
    before = table_counts(store)
    wizard = make_wizard()
    if step == CHECK:  # cancel while the photo is still being checked
        choose_file(qtbot, monkeypatch, wizard, DATA / "obama.jpg")
    else:
        go_to_details(qtbot, monkeypatch, wizard, DATA / "obama.jpg")
        fill_details(qtbot, wizard, "Barack Obama", badge="44")
    with qtbot.assertNotEmitted(wizard.enrolled):
        click(qtbot, wizard.button(QWizard.WizardButton.CancelButton))
    assert wizard.result() == QDialog.DialogCode.Rejected and not wizard.isVisible()
    assert table_counts(store) == before


# --- the face engine -------------------------------------------------------------------------------


def test_the_check_waits_for_the_face_engine_to_load(qtbot, monkeypatch, make_wizard):
    engine = EngineLoader()
    wizard = make_wizard(engine=engine)
    choose_file(qtbot, monkeypatch, wizard, DATA / "obama.jpg")
    assert wizard.check_page.status_label.text() == "Loading face engine…"
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    qtbot.waitUntil(wizard.check_page.isComplete, timeout=60_000)
    engine.wait()
    assert engine.pipeline is not None


def test_an_engine_that_failed_to_load_is_reported(qtbot, monkeypatch, make_wizard):
    engine = EngineLoader()
    wizard = make_wizard(engine=engine, settings={"model": "no-such-model"})
    choose_file(qtbot, monkeypatch, wizard, DATA / "obama.jpg")
    label = wizard.check_page.status_label
    qtbot.waitUntil(lambda: "could not be loaded" in label.text(), timeout=WAIT)
    engine.wait()
    assert "Unknown model 'no-such-model'" in label.text()
    assert not wizard.check_page.busy.isVisible()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()


# --- the camera ------------------------------------------------------------------------------------


def test_take_a_photo_with_the_camera_counts_down_and_enrolls_the_captured_face(qtbot, make_wizard, store, tmp_path):
    wizard = make_wizard(camera=folder_with(tmp_path, "obama2.jpg"))
    page = wizard.source_page
    capture = page.capture
    click(qtbot, page.camera_button)
    qtbot.waitUntil(capture.take_button.isEnabled, timeout=WAIT)  # the first picture arrived
    assert not capture.preview.pixmap().isNull()
    seen: list[str] = []
    with qtbot.waitSignal(capture.captured, timeout=WAIT) as captured:
        click(qtbot, capture.take_button)
        for number in ("3", "2", "1"):
            qtbot.waitUntil(lambda n=number: capture.countdown_label.text() in (n, "Captured"), timeout=WAIT)
            seen.append(capture.countdown_label.text())
    assert seen == ["3", "2", "1"]
    assert captured.args[0].image.shape == (960, 501, 3)  # a real frame of the slide show
    assert capture.countdown_label.text() == "Captured" and not capture.is_running()
    assert wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    click(qtbot, wizard.button(QWizard.WizardButton.NextButton))
    wait_for_check(qtbot, wizard)
    assert wizard.check_page.isComplete(), wizard.check_page.status_label.text()
    click(qtbot, wizard.button(QWizard.WizardButton.NextButton))
    fill_details(qtbot, wizard, "Barack Obama")
    click(qtbot, enroll_button(wizard))
    [template] = store.templates(store.people()[0].id)
    assert template.source == f"camera:{tmp_path / 'camera'}"


def test_a_failing_camera_is_reported_and_a_file_can_still_be_chosen(qtbot, monkeypatch, make_wizard, tmp_path):
    wizard = make_wizard(camera=str(tmp_path / "unplugged.mp4"))
    capture = wizard.source_page.capture
    click(qtbot, wizard.source_page.camera_button)
    qtbot.waitUntil(lambda: capture.status_label.text() != "", timeout=WAIT)
    assert capture.status_label.text().startswith(
        f"Camera offline: The video file '{tmp_path / 'unplugged.mp4'}' does not exist. Retrying in"
    )
    assert not capture.take_button.isEnabled()
    assert not wizard.button(QWizard.WizardButton.NextButton).isEnabled()
    choose_file(qtbot, monkeypatch, wizard, DATA / "obama.jpg")
    assert not capture.is_running()
    wait_for_check(qtbot, wizard)
    assert wizard.check_page.isComplete()


def test_closing_the_wizard_stops_a_running_camera_preview(qtbot, make_wizard, tmp_path, no_thread_left_running):
    wizard = make_wizard(camera=folder_with(tmp_path, "obama2.jpg"))
    capture = wizard.source_page.capture
    click(qtbot, wizard.source_page.camera_button)
    qtbot.waitUntil(capture.take_button.isEnabled, timeout=WAIT)
    click(qtbot, capture.take_button)  # mid-countdown
    wizard.close()
    assert not capture.is_running() and capture.countdown_label.text() != "Captured"
    assert not any(thread.isRunning() for thread in no_thread_left_running)


@pytest.mark.parametrize(("camera_photo", "recognised"), [("obama3.jpg", True), ("biden.jpg", False)])
def test_verify_now_says_whether_the_camera_recognises_the_new_person(
    qtbot, monkeypatch, make_wizard, tmp_path, pipeline, camera_photo, recognised
):
    """The verdict names the distance and the model's threshold, and the distance lies on the side of
    the threshold the verdict says (whatever the model's distance scale)."""
    wizard = make_wizard(camera=folder_with(tmp_path, camera_photo), verify_seconds=3)
    go_to_details(qtbot, monkeypatch, wizard, DATA / "obama.jpg")
    fill_details(qtbot, wizard, "Barack Obama")
    click(qtbot, enroll_button(wizard))
    page = wizard.done_page
    click(qtbot, page.verify_button)
    assert page.is_verifying() and not page.verify_button.isEnabled()
    qtbot.waitUntil(lambda: not page.is_verifying(), timeout=WAIT)
    text = page.verify_label.text()
    if recognised:
        found = re.fullmatch(r"Recognised Barack Obama \(distance (\d+\.\d\d), threshold (\d+\.\d\d)\)\.", text)
    else:
        found = re.match(
            r"Not recognised as Barack Obama: the closest face was at distance (\d+\.\d\d), above the "
            r"threshold (\d+\.\d\d)\. ",
            text,
        )
    assert found, text
    distance, threshold = float(found[1]), float(found[2])
    assert found[2] == f"{pipeline.threshold:.2f}"
    assert (distance <= threshold) if recognised else (distance > threshold), text
    assert page.verify_button.isEnabled()  # another try is possible


def test_verify_now_on_a_damaged_database_says_so_and_opens_no_camera(qtbot, monkeypatch, make_wizard, store):
    wizard = make_wizard()
    go_to_details(qtbot, monkeypatch, wizard, DATA / "obama.jpg")
    fill_details(qtbot, wizard, "Barack Obama")
    click(qtbot, enroll_button(wizard))
    store.db.execute("ALTER TABLE templates RENAME TO lost")  # another program broke the file meanwhile
    page = wizard.done_page
    click(qtbot, page.verify_button)
    assert not page.is_verifying() and page.verify_button.isEnabled()
    assert page.verify_label.text() == f"Database error in {store.path}: no such table: templates."


def test_finishing_while_verify_now_watches_the_camera_stops_it(
    qtbot, monkeypatch, make_wizard, tmp_path, no_thread_left_running
):
    wizard = make_wizard(camera=folder_with(tmp_path, "biden.jpg"))
    go_to_details(qtbot, monkeypatch, wizard, DATA / "obama.jpg")
    fill_details(qtbot, wizard, "Barack Obama <b>44</b>")
    click(qtbot, enroll_button(wizard))
    page = wizard.done_page
    assert page.result_label.text().startswith("Enrolled Barack Obama <b>44</b> (#")
    click(qtbot, page.verify_button)
    qtbot.waitUntil(lambda: not page.preview.pixmap().isNull(), timeout=WAIT)  # frames are being encoded
    click(qtbot, wizard.button(QWizard.WizardButton.FinishButton))
    assert not page.is_verifying() and not wizard.isVisible()
    assert not any(thread.isRunning() for thread in no_thread_left_running)
