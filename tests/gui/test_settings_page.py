"""The settings page on a real database file: shows, validates, stores and reverts the kiosk's settings."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from faceguard.app.enrollment import enroll_photo, prepare_template
from faceguard.app.settings import PREFIX, KioskSettings, load_settings, save_settings
from faceguard.gui.admin.settings_page import DERIVED_TEXT, LIVE_NOTE, UNAVAILABLE, SettingsPage, _percent
from faceguard.matching.calibration import Calibration
from faceguard.store.repository import Store
from faceguard.store.sealing import THUMBNAILS
from faceguard.vision.pipeline import FacePipeline
from faceguard.vision.spec import DEFAULT_MODEL, get_model_spec, list_models, models_dir, spec_to_json
from tests.model_helpers import TINY, export_tiny
from tests.store_helpers import new_template, write_sealed

DLIB = get_model_spec("dlib-resnet")
#: The model the page shows unless another is stored: its calibration gives the figures shown.
SPEC = get_model_spec(DEFAULT_MODEL)
STORED = KioskSettings(
    site_name="Lab 4",
    door="Back door",
    camera="tests/data",
    device="cpu",
    threshold=0.55,
    threads=2,
    k=2,
    n=4,
    cooldown=7.5,
    sound=False,
    rate_limit_denials=5,
    rate_limit_pause=120.0,
)


@pytest.fixture(autouse=True)
def no_exported_models(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEGUARD_MODELS_DIR", str(tmp_path / "models"))


@pytest.fixture
def make_page(qtbot, store):
    """Pages on ``store``, kept until the test ends and then closed as the admin window closes them."""
    pages: list[SettingsPage] = []

    def make() -> SettingsPage:
        page = SettingsPage(store)
        qtbot.addWidget(page)
        page.show()
        pages.append(page)
        return page

    yield make
    for page in pages:
        page.close()


CALIBRATION = Calibration.load(SPEC.id)


def shows_rates(page: SettingsPage, threshold: float, enrolled: int) -> bool:
    """The rates line names the gallery size, the threshold and its 1:N and 1:1 figures."""
    fpir, fnir = CALIBRATION.open_set_rates(threshold, enrolled)
    text = page.rates.text()
    return (
        f"With {enrolled:,} people enrolled: threshold {threshold:.3f}" in text
        and f"{_percent(fpir)} of strangers matched" in text
        and f"{_percent(fnir)} of enrolled" in text
        and "on 2,200 LFW DevTrain calibration pairs" in text
    )


def enroll_people(store: Store, count: int) -> None:
    rng = np.random.default_rng(7)
    for number in range(count):
        store.enroll(f"Person {number}", new_template(rng, model_id=SPEC.id, dim=SPEC.dim))


def stored_keys(db_path) -> list[str]:
    with Store.open(db_path, create=False) as other:
        return [key for (key,) in other.db.execute("SELECT key FROM settings WHERE key LIKE 'kiosk.%'")]


def test_the_page_shows_the_stored_values(store, make_page):
    save_settings(store, STORED)
    page = make_page()
    assert (page.site_name.text(), page.door.text(), page.camera.text()) == ("Lab 4", "Back door", "tests/data")
    assert page.device.currentData() == "cpu" and page.model.currentText() == DEFAULT_MODEL
    assert not page.calibrated.isChecked() and page.threshold.isEnabled() and page.threshold.value() == 0.55
    assert (page.threads.value(), page.k.value(), page.n.value(), page.cooldown.value()) == (2, 2, 4, 7.5)
    assert not page.sound.isChecked()
    assert (page.rate_limit_denials.value(), page.rate_limit_pause.value()) == (5, 120.0)
    assert shows_rates(page, 0.55, 0)
    assert "Badge + face (1:1) checks use 0.550" in page.rates.text()
    assert page.settings() == STORED


def test_edits_are_saved_to_the_file_and_another_store_sees_them(qtbot, db_path, make_page):
    page = make_page()
    assert page.settings() == KioskSettings()
    page.site_name.clear()
    qtbot.keyClicks(page.site_name, "Lab 4")
    page.door.setText("Back door")
    page.camera.setText("  tests/data ")
    page.device.setCurrentIndex(page.device.findData("cpu"))
    page.calibrated.setChecked(False)
    page.threshold.setValue(0.55)
    page.threads.setValue(2)
    page.k.setValue(2)
    page.n.setValue(4)
    page.cooldown.setValue(7.5)
    page.sound.setChecked(False)
    page.rate_limit_denials.setValue(5)
    page.rate_limit_pause.setValue(120)
    with qtbot.waitSignal(page.saved) as saved:
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert saved.args == [STORED]
    assert not page.message.is_error and page.message.text() == f"Saved. {LIVE_NOTE}"
    with Store.open(db_path, create=False) as other:
        assert load_settings(other) == STORED


def test_k_above_n_shows_the_policys_message_and_stores_nothing(qtbot, db_path, make_page):
    page = make_page()
    page.site_name.setText("Lab 4")
    page.k.setValue(6)
    page.n.setValue(5)
    with qtbot.assertNotEmitted(page.saved):
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    assert page.message.is_error and page.message.isVisible()
    assert page.message.text() == "k must be between 1 and n (5), got 6."
    assert (page.site_name.text(), page.k.value(), page.n.value()) == ("Lab 4", 6, 5)
    assert stored_keys(db_path) == []


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda page: page.site_name.setText("   "), "The site name must not be empty."),
        (
            lambda page: page.camera.clear(),
            "Choose a camera: a webcam number, a video file, a URL or a folder of images.",
        ),
        (lambda page: page.cooldown.setValue(0), "cooldown must be a positive number of seconds, got 0.0."),
    ],
)
def test_other_refusals_show_their_message(qtbot, db_path, make_page, edit, message):
    page = make_page()
    edit(page)
    page.save()
    assert page.message.is_error and page.message.text() == message
    assert stored_keys(db_path) == []


def test_the_rates_follow_the_threshold(make_page):
    page = make_page()
    page.calibrated.setChecked(False)
    for scale in (0.75, 0.85, 1.15):  # around the model's 1:1 threshold, where the rates change
        threshold = round(scale * SPEC.threshold, 3)
        page.threshold.setValue(threshold)
        assert shows_rates(page, threshold, 0)


def test_the_derived_threshold_follows_the_target_and_the_number_enrolled(store, make_page):
    """1 in 1,000 strangers by default; the threshold tightens as people are enrolled or the target is
    made stricter, and the figures shown are those of the derived threshold."""
    page = make_page()
    assert page.calibrated.isChecked() and page.calibrated.text() == DERIVED_TEXT
    assert not page.threshold.isEnabled() and page.strangers.value() == 1000
    alone = CALIBRATION.site_threshold(0.001, 0)
    assert page.threshold.value() == pytest.approx(alone, abs=5e-4) and shows_rates(page, alone, 0)
    enroll_people(store, 30)
    page.revert()
    crowded = CALIBRATION.site_threshold(0.001, 30)
    assert crowded < alone and page.threshold.value() == pytest.approx(crowded, abs=5e-4)
    assert shows_rates(page, crowded, 30)
    page.strangers.setValue(100)
    looser = CALIBRATION.site_threshold(0.01, 30)
    assert looser > crowded and page.threshold.value() == pytest.approx(looser, abs=5e-4)


def test_deriving_the_threshold_stores_none_and_the_target(store, db_path, make_page):
    save_settings(store, STORED)
    page = make_page()
    page.calibrated.setChecked(True)
    page.strangers.setValue(5000)
    assert not page.threshold.isEnabled()
    page.save()
    with Store.open(db_path, create=False) as other:
        assert load_settings(other) == replace(STORED, threshold=None, max_fpir=1 / 5000)


def test_revert_shows_what_is_stored_now(qtbot, store, make_page):
    page = make_page()
    page.site_name.setText("Not saved")
    save_settings(store, STORED)  # as another admin would
    qtbot.mouseClick(page.revert_button, Qt.MouseButton.LeftButton)
    assert page.settings() == STORED


def test_a_model_without_calibration_says_so(make_page):
    folder = models_dir()
    folder.mkdir()
    mine = replace(DLIB, name="mine", weights_path=str(folder / "mine.pt"), weights_sha256="0" * 64)
    (folder / "mine.json").write_text(__import__("json").dumps(spec_to_json(mine)), encoding="utf-8")
    page = make_page()
    page.model.setCurrentIndex(page.model.findData("mine"))
    assert page.rates.text() == (
        f"Threshold {DLIB.threshold:.3f}. No calibration data for this model: its error rates are unknown."
    )
    page.model.setCurrentIndex(page.model.findData(SPEC.name))
    assert shows_rates(page, CALIBRATION.site_threshold(0.001, 0), 0)


def test_a_stored_model_that_is_not_installed_cannot_be_saved(store, db_path, make_page):
    store.set_setting(PREFIX + "model", "ghost")
    page = make_page()
    assert page.model.currentText() == "ghost"
    assert page.rates.text() == "The model 'ghost' is not installed on this computer."
    page.save()
    known = ", ".join(spec.name for spec in list_models())
    assert page.message.text() == f"Unknown model 'ghost'. Known models: {known}."
    assert stored_keys(db_path) == [PREFIX + "model"]


def test_unusable_stored_settings_show_the_reason_and_the_defaults(store, db_path, make_page):
    store.set_setting(PREFIX + "threads", "two")
    page = make_page()
    assert page.message.is_error
    assert page.message.text() == (
        f"The kiosk settings in {db_path} are invalid: kiosk.threads holds 'two'. Save "
        "the settings again in the admin window. The defaults are shown instead."
    )
    assert page.settings() == KioskSettings()


def test_devices_this_computer_lacks_are_marked(qtbot, store, make_page):
    import torch

    store.set_setting(PREFIX + "device", "cuda:1")
    page = make_page()
    qtbot.waitUntil(lambda: not page.device_hint.text().startswith("Checking"), timeout=60_000)
    lacking = {"cuda": not torch.cuda.is_available(), "mps": not torch.backends.mps.is_available()}
    marked = {
        page.device.itemData(i): page.device.itemText(i).endswith(UNAVAILABLE) for i in range(page.device.count())
    }
    assert marked == {"auto": False, "cpu": False, **lacking, "cuda:1": lacking["cuda"]}
    assert page.device.currentData() == "cuda:1"


# --- people without a template of the model -------------------------------------------------------


@pytest.fixture
def tiny_installed():
    """The model "tiny" exported into this test's models folder: the new model of an upgrade."""
    folder = models_dir()
    folder.mkdir()
    export_tiny(folder)
    return get_model_spec(TINY)


@pytest.fixture
def enrolled(store, pipeline, photo):
    """Barack Obama and Joe Biden, enrolled from their photos with the default model (the old one here)."""
    return [
        enroll_photo(store, pipeline, photo(f"{name.split()[1].lower()}.jpg"), name, "photo")
        for name in ("Barack Obama", "Joe Biden")
    ]


def missing_line(count: str) -> str:
    return f"{count} no face template for tiny yet: the kiosk will not recognise them until their faces are re-encoded."


def test_a_model_lacking_enrolled_people_says_so_and_re_encode_now_makes_their_templates(
    qtbot, store, pipeline, make_page, tiny_installed, enrolled, monkeypatch
):
    """The engine loads in the background, the page says how far it got and stays usable; at the end
    the line goes and the summary shows."""
    loaded_in = []
    load = FacePipeline.load
    monkeypatch.setattr(
        FacePipeline, "load", lambda **options: loaded_in.append(threading.current_thread()) or load(**options)
    )
    page = make_page()
    page.model.setCurrentIndex(page.model.findData(pipeline.spec.name))
    assert page.model_missing.isHidden()  # everyone has a template of the model they were enrolled with
    page.model.setCurrentIndex(page.model.findData(TINY))
    assert page.model_missing.isVisible() and page.model_status.text() == missing_line("2 people have")
    progress = []
    page.reencode_progress.connect(lambda done, total: progress.append((done, total, page.model_status.text())))
    qtbot.mouseClick(page.reencode_button, Qt.MouseButton.LeftButton)
    assert not page.reencode_button.isEnabled() and page.model_status.text() == "Loading tiny…"
    page.k.setValue(2)  # the page stays usable meanwhile
    qtbot.waitUntil(lambda: page.reencode_button.isEnabled(), timeout=60_000)
    assert loaded_in and threading.main_thread() not in loaded_in
    assert progress == [(1, 2, "Re-encoding with tiny… 1 / 2"), (2, 2, "Re-encoding with tiny… 2 / 2")]
    assert page.model_missing.isHidden() and page.k.value() == 2
    assert not page.message.is_error and page.message.text().startswith(
        "2 people: 2 face templates re-encoded with tiny@1, 0 already done."
    )
    assert store.enrolled_count(tiny_installed.id) == 2 and store.people_without_model(tiny_installed.id) == 0
    page.model.setCurrentIndex(page.model.findData(pipeline.spec.name))
    assert page.model_missing.isHidden()  # the old templates are kept


def test_a_face_that_cannot_be_re_encoded_is_reported_and_its_person_still_counted(
    qtbot, store, make_page, tiny_installed, enrolled
):
    obama, biden = enrolled
    [broken] = store.templates(obama.id)
    write_sealed(store, THUMBNAILS, broken.id, b"not a jpeg")
    page = make_page()
    page.model.setCurrentIndex(page.model.findData(TINY))
    page.reencode()
    qtbot.waitUntil(lambda: page.reencode_button.isEnabled(), timeout=60_000)
    assert page.message.is_error and "1 face templates re-encoded with tiny@1, 0 already done, 1 failed" in (
        page.message.text()
    )
    assert f"Template {broken.id} of person #{obama.id} failed: " in page.message.text()
    assert "not a readable image" in page.message.text()
    assert page.model_missing.isVisible() and page.model_status.text() == missing_line("1 person has")


def test_an_engine_that_cannot_load_is_shown_not_raised(qtbot, store, make_page, tiny_installed, enrolled):
    page = make_page()
    page.model.setCurrentIndex(page.model.findData(TINY))
    (models_dir() / f"{TINY}.pt").unlink()  # the weights went missing after the page opened
    page.reencode()
    qtbot.waitUntil(lambda: page.reencode_button.isEnabled(), timeout=60_000)
    assert page.message.is_error and page.message.text().startswith(
        "Re-encoding with tiny failed: The weights of model tiny@1 are missing:"
    )
    assert page.model_status.text() == missing_line("2 people have")
    assert store.enrolled_count(tiny_installed.id) == 0


def test_closing_the_page_stops_a_re_encoding_after_the_current_person(
    qtbot, store, pipeline, photo, make_page, tiny_installed
):
    """What was written stays (each person is one transaction); running it again goes on from there."""
    template, _ = prepare_template(pipeline, photo("obama.jpg"), "photo:obama.jpg")
    for number in range(500):
        store.enroll(f"Person {number}", template)
    page = make_page()
    page.model.setCurrentIndex(page.model.findData(TINY))
    started = []
    page.reencode_progress.connect(lambda done, total: started.append(done))
    page.reencode()
    qtbot.waitUntil(lambda: bool(started), timeout=60_000)
    page.close()
    assert 0 < store.enrolled_count(tiny_installed.id) < 500


def test_saving_a_model_that_lacks_enrolled_people_warns_but_saves(store, db_path, make_page, tiny_installed, enrolled):
    page = make_page()
    page.model.setCurrentIndex(page.model.findData(TINY))
    page.save()
    assert page.message.is_error and page.message.text() == (
        f"Saved, but {missing_line('2 people have')} Use Re-encode now under Model. {LIVE_NOTE}"
    )
    with Store.open(db_path, create=False) as other:
        assert load_settings(other).model == TINY
