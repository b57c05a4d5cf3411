"""The settings page's Liveness group on a real database file: the mode, what each mode costs in time,
the options each mode uses, stored with the other settings and checked by their rules."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from faceguard.app.kiosk.liveness import ACTIVE_ADDED_SECONDS, PASSIVE_MS_PER_FACE
from faceguard.app.settings import LIVENESS_MODES, KioskSettings, load_settings, save_settings
from faceguard.gui.admin.liveness_settings import TITLE
from faceguard.gui.admin.settings_page import SettingsPage
from tests.gui.test_settings_page import make_page, no_exported_models

__all__ = ["make_page", "no_exported_models"]  # fixtures of the settings page tests


def choose(page: SettingsPage, mode: str) -> None:
    group = page.liveness_group
    group.mode.setCurrentIndex(group.mode.findData(mode))
    assert group.mode.currentData() == mode


def enabled(page: SettingsPage) -> dict[str, bool]:
    group = page.liveness_group
    widgets = {
        "timeout": group.timeout,
        "both_ways": group.both_ways,
        "nod": group.nod,
        "models": group.models,
        "browse": group.browse,
        "threshold": group.threshold,
    }
    return {name: widget.isEnabled() for name, widget in widgets.items()}


def test_active_is_the_default_and_each_mode_says_what_it_costs_in_time(make_page):
    page = make_page()
    group = page.liveness_group
    assert group.title() == TITLE == "Liveness (photo and screen attacks)" and group.isVisible()
    assert group.mode.currentData() == "active" and [group.mode.itemData(i) for i in range(4)] == list(LIVENESS_MODES)
    lines = group.explanation.text().split("<br>")
    assert len(lines) == 4 and lines[2].startswith("<b>Active")  # the selected mode stands out
    off, passive, active, both = lines
    assert "Adds no time" in off
    assert f"about {PASSIVE_MS_PER_FACE:g} ms per face on each encoded frame" in passive
    assert f"about {ACTIVE_ADDED_SECONDS:g} s (median)" in active
    assert f"{PASSIVE_MS_PER_FACE:g} ms" in both and f"{ACTIVE_ADDED_SECONDS:g} s" in both
    assert enabled(page) == {
        "timeout": True,
        "both_ways": True,
        "nod": True,
        "models": False,
        "browse": False,
        "threshold": False,
    }
    assert not group.nod.isChecked()  # a nod is offered only where the site chooses to
    choose(page, "passive")
    assert group.explanation.text().split("<br>")[1].startswith("<b>Passive")
    assert enabled(page) == {
        "timeout": False,
        "both_ways": False,
        "nod": False,
        "models": True,
        "browse": True,
        "threshold": True,
    }
    choose(page, "both")
    assert all(enabled(page).values())
    choose(page, "off")
    assert not any(enabled(page).values())


def test_the_liveness_fields_are_shown_stored_and_reverted(store, make_page, tmp_path):
    models = tmp_path / "minifasnet"
    stored = KioskSettings(
        liveness="both",
        liveness_timeout=8.0,
        liveness_both_ways=True,
        liveness_nod=True,
        liveness_models=str(models),
        live_threshold=0.7,
    )
    save_settings(store, stored)
    page = make_page()
    group = page.liveness_group
    assert group.values() == {
        "liveness": "both",
        "liveness_timeout": 8.0,
        "liveness_both_ways": True,
        "liveness_nod": True,
        "liveness_models": str(models),
        "live_threshold": 0.7,
    }
    choose(page, "active")
    group.timeout.setValue(12.5)
    group.both_ways.setChecked(False)
    group.nod.setChecked(False)
    page.save()
    assert not page.message.is_error
    saved = replace(stored, liveness="active", liveness_timeout=12.5, liveness_both_ways=False, liveness_nod=False)
    assert not saved.challenge().allow_nod
    assert load_settings(store) == saved  # the model folder and threshold are kept for a later switch back
    choose(page, "passive")
    group.threshold.setValue(0.2)
    page.revert()
    assert group.values()["liveness"] == "active" and group.threshold.value() == 0.7


def test_the_answer_time_and_threshold_stay_within_their_limits(make_page):
    group = make_page().liveness_group
    group.timeout.setValue(45)
    group.threshold.setValue(1.0)
    assert (group.timeout.value(), group.threshold.value()) == (30.0, 0.99)
    group.timeout.setValue(0)
    group.threshold.setValue(0)
    assert (group.timeout.value(), group.threshold.value()) == (1.0, 0.01)


def test_passive_without_the_model_folder_is_refused_on_save(store, make_page):
    page = make_page()
    choose(page, "passive")
    page.liveness_group.models.setText("   ")
    page.save()
    assert page.message.isVisible() and page.message.is_error
    assert page.message.text() == (
        "Liveness 'passive' needs the site's passive model files (a folder with the MiniFASNetV2 and "
        "MiniFASNetV1SE .pth files); FaceGuard never downloads them."
    )
    assert load_settings(store).liveness == "active"  # nothing was stored


def test_browse_chooses_the_model_folder(qtbot, store, make_page, monkeypatch, tmp_path):
    asked = []

    def choose_folder(parent, caption, start):
        asked.append(caption)
        return str(tmp_path)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", choose_folder)
    page = make_page()
    choose(page, "both")
    qtbot.mouseClick(page.liveness_group.browse, Qt.MouseButton.LeftButton)
    assert asked == ["Folder of the passive liveness models"]
    assert page.liveness_group.models.text() == str(tmp_path)
    page.save()
    assert (load_settings(store).liveness, load_settings(store).liveness_models) == ("both", str(tmp_path))
