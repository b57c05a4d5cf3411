"""The settings page's Privacy group on a real database file: how long face snapshots and access events
are kept, shown, stored with the other settings and checked by their rules."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from faceguard.app.settings import KioskSettings, load_settings, save_settings
from faceguard.gui.admin.settings_page import RETENTION_TEXT
from faceguard.store.repository import Store
from tests.gui.test_settings_page import make_page, no_exported_models

__all__ = ["make_page", "no_exported_models"]  # fixtures of the settings page tests


def test_the_page_shows_the_stored_retention_and_the_defaults_reasons(store, make_page):
    save_settings(store, KioskSettings(snapshot_retention_days=7, event_retention_days=365))
    page = make_page()
    assert page.privacy_group.title() == "Privacy"
    assert (page.snapshot_retention_days.value(), page.event_retention_days.value()) == (7, 365)
    assert page.snapshot_retention_days.text() == "7 days"
    assert RETENTION_TEXT in [label.text() for label in page.privacy_group.findChildren(QLabel)]


def test_edited_retention_is_saved_to_the_file(qtbot, db_path, make_page):
    page = make_page()
    assert (page.snapshot_retention_days.value(), page.event_retention_days.value()) == (30, 90)
    page.snapshot_retention_days.setValue(14)
    page.event_retention_days.setValue(60)
    with qtbot.waitSignal(page.saved):
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    with Store.open(db_path, create=False) as other:
        assert load_settings(other) == replace(KioskSettings(), snapshot_retention_days=14, event_retention_days=60)
    assert page.snapshot_retention_days.minimum() == 1 and page.event_retention_days.maximum() == 3650
