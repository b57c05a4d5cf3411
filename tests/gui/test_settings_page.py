"""The settings page on a real database file: shows, validates, stores and reverts the kiosk's settings."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from faceguard.calibration import Calibration
from faceguard.gui.admin.settings_page import LIVE_NOTE, UNAVAILABLE, SettingsPage
from faceguard.settings import PREFIX, KioskSettings, load_settings, save_settings
from faceguard.store.repository import Store
from faceguard.vision.spec import get_model_spec, models_dir, spec_to_json

DLIB = get_model_spec("dlib-resnet")
STORED = KioskSettings(site_name="Lab 4", door="Back door", camera="tests/data", device="cpu", threshold=0.55,
                       threads=2, k=2, n=4, cooldown=7.5, sound=False)


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


def rates_text(threshold: float) -> str:
    far, frr = Calibration.load(DLIB.id).error_rates(threshold)
    return f"FAR {100 * far:.1f} % · FRR {100 * frr:.1f} % on LFW DevTrain calibration pairs (n=2200)"


def stored_keys(db_path) -> list[str]:
    with Store.open(db_path, create=False) as other:
        return [key for (key,) in other.db.execute("SELECT key FROM settings WHERE key LIKE 'kiosk.%'")]


def test_the_page_shows_the_stored_values(store, make_page):
    save_settings(store, STORED)
    page = make_page()
    assert (page.site_name.text(), page.door.text(), page.camera.text()) == ("Lab 4", "Back door", "tests/data")
    assert page.device.currentData() == "cpu" and page.model.currentText() == "dlib-resnet"
    assert not page.calibrated.isChecked() and page.threshold.isEnabled() and page.threshold.value() == 0.55
    assert (page.threads.value(), page.k.value(), page.n.value(), page.cooldown.value()) == (2, 2, 4, 7.5)
    assert not page.sound.isChecked()
    assert page.rates.text() == rates_text(0.55)
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


@pytest.mark.parametrize(("edit", "message"), [
    (lambda page: page.site_name.setText("   "), "The site name must not be empty."),
    (lambda page: page.camera.clear(), "Choose a camera: a webcam number, a video file, a URL or a folder of images."),
    (lambda page: page.cooldown.setValue(0), "cooldown must be a positive number of seconds, got 0.0."),
])
def test_other_refusals_show_their_message(qtbot, db_path, make_page, edit, message):
    page = make_page()
    edit(page)
    page.save()
    assert page.message.is_error and page.message.text() == message
    assert stored_keys(db_path) == []


def test_the_rates_follow_the_threshold(make_page):
    page = make_page()
    assert page.calibrated.isChecked() and not page.threshold.isEnabled()
    assert page.calibrated.text() == "Use the model's calibrated threshold (0.599)"
    assert page.threshold.value() == DLIB.threshold
    assert page.rates.text() == "FAR 0.6 % · FRR 0.4 % on LFW DevTrain calibration pairs (n=2200)"
    page.calibrated.setChecked(False)
    for threshold in (0.45, 0.5, 0.7):
        page.threshold.setValue(threshold)
        assert page.rates.text() == rates_text(threshold)
    assert rates_text(0.45) != rates_text(0.5) != rates_text(0.7)


def test_using_the_calibrated_threshold_stores_none(store, db_path, make_page):
    save_settings(store, STORED)
    page = make_page()
    page.calibrated.setChecked(True)
    assert not page.threshold.isEnabled() and page.threshold.value() == DLIB.threshold
    assert page.rates.text() == rates_text(DLIB.threshold)
    page.save()
    with Store.open(db_path, create=False) as other:
        assert load_settings(other) == replace(STORED, threshold=None)


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
    assert page.rates.text() == "No calibration data for this model."
    page.model.setCurrentIndex(page.model.findData("dlib-resnet"))
    assert page.rates.text() == rates_text(DLIB.threshold)


def test_a_stored_model_that_is_not_installed_cannot_be_saved(store, db_path, make_page):
    store.set_setting(PREFIX + "model", "ghost")
    page = make_page()
    assert page.model.currentText() == "ghost"
    assert page.rates.text() == "The model 'ghost' is not installed on this computer."
    page.save()
    assert page.message.text() == "Unknown model 'ghost'. Known models: dlib-resnet."
    assert stored_keys(db_path) == [PREFIX + "model"]


def test_unusable_stored_settings_show_the_reason_and_the_defaults(store, db_path, make_page):
    store.set_setting(PREFIX + "threads", "two")
    page = make_page()
    assert page.message.is_error
    assert page.message.text() == (f"The kiosk settings in {db_path} are invalid: kiosk.threads holds 'two'. Save "
                                   "the settings again in the admin window. The defaults are shown instead.")
    assert page.settings() == KioskSettings()


def test_devices_this_computer_lacks_are_marked(qtbot, store, make_page):
    import torch

    store.set_setting(PREFIX + "device", "cuda:1")
    page = make_page()
    qtbot.waitUntil(lambda: not page.device_hint.text().startswith("Checking"), timeout=60_000)
    lacking = {"cuda": not torch.cuda.is_available(), "mps": not torch.backends.mps.is_available()}
    marked = {page.device.itemData(i): page.device.itemText(i).endswith(UNAVAILABLE) for i in range(page.device.count())}
    assert marked == {"auto": False, "cpu": False, **lacking, "cuda:1": lacking["cuda"]}
    assert page.device.currentData() == "cuda:1"
