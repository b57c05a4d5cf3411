"""FACEGUARD_TRACE_STARTUP: the kiosk says on stderr when its first video frame arrives (start-up timing)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from faceguard.app.settings import KioskSettings
from faceguard.gui.kiosk import TRACE_STARTUP_ENV, KioskWindow

DATA = Path(__file__).parents[1] / "data"
TRACE = "faceguard: first video frame at "


def open_kiosk(qtbot, tmp_path: Path, pipeline) -> KioskWindow:
    camera = tmp_path / "camera"
    camera.mkdir()
    shutil.copy(DATA / "obama2.jpg", camera)
    window = KioskWindow(tmp_path / "kiosk.db", KioskSettings(camera=str(camera), sound=False), pipeline=pipeline)
    qtbot.addWidget(window)
    window.show()
    window.start()
    return window


def test_first_frame_is_traced_once_when_asked(qtbot, tmp_path, pipeline, capsys, monkeypatch):
    monkeypatch.setenv(TRACE_STARTUP_ENV, "1")
    before = time.time()
    window = open_kiosk(qtbot, tmp_path, pipeline)
    qtbot.waitUntil(lambda: window.video.image is not None, timeout=20_000)
    qtbot.wait(1500)  # the photo folder keeps sending frames: still one line
    window.close()
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith(TRACE)]
    assert len(lines) == 1, lines
    assert before <= float(lines[0].removeprefix(TRACE)) <= time.time()


def test_no_trace_by_default(qtbot, tmp_path, pipeline, capsys, monkeypatch):
    monkeypatch.delenv(TRACE_STARTUP_ENV, raising=False)
    window = open_kiosk(qtbot, tmp_path, pipeline)
    qtbot.waitUntil(lambda: window.video.image is not None, timeout=20_000)
    window.close()
    assert TRACE not in capsys.readouterr().err
