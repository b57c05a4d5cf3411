"""The People page's "Export…" on a real database file: the selected person's data in a new private ZIP."""

from __future__ import annotations

import json
import stat
import zipfile

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from tests.gui.test_admin_people import faces, page, people, select

__all__ = ["faces", "page", "people"]  # fixtures of the People page tests


def test_export_writes_the_selected_persons_data_not_over_a_file(page, store, people, qtbot, monkeypatch, tmp_path):
    obama, _ = people
    out = tmp_path / "obama.zip"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(out), ""))
    assert not page.export_button.isEnabled()  # nobody selected
    select(page, "Barack Obama")
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    assert page.message.text().startswith(f"Exported Barack Obama to {out}: 1 face photos, 0 access events")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with zipfile.ZipFile(out) as archive:
        record = json.loads(archive.read("person.json"))
        assert archive.read(f"faces/template-{record['templates'][0]['id']}.jpg") == store.face(obama.id)
    assert record["person"]["name"] == "Barack Obama"

    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    assert page.message.is_error and page.message.text() == f"{out} exists already; choose another file name."
