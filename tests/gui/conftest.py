"""GUI fixtures: every test here fails if it leaves a QThread running."""

from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication


@pytest.fixture(autouse=True)
def no_thread_left_running(qtbot, monkeypatch):
    """Record every QThread started during the test; once the test's windows are closed (as a user
    would close them) none may still be running."""
    started: list[QThread] = []
    original_start = QThread.start

    def recording_start(self, *args):
        started.append(self)
        return original_start(self, *args)

    monkeypatch.setattr(QThread, "start", recording_start)
    yield started
    for widget in QApplication.topLevelWidgets():
        widget.close()
    qtbot.wait(0)
    running = [repr(thread) for thread in started if shiboken6.isValid(thread) and thread.isRunning()]
    for thread in started:  # stop them anyway so one leak does not break the following tests
        if shiboken6.isValid(thread) and thread.isRunning():
            thread.requestInterruption()
            thread.quit()
            thread.wait(5000)
    assert not running, f"QThreads still running after the test: {running}"
