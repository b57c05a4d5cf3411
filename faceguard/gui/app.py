"""The QApplication every FaceGuard window runs in."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget


def application() -> QApplication:
    """The running QApplication, created with FaceGuard's name on first use."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv)
    app.setApplicationName("FaceGuard")
    app.setOrganizationName("FaceGuard")
    return app


def close_on_interrupt(window: QWidget, close: Callable[[], object] | None = None) -> None:
    """Ctrl-C in the terminal closes ``window`` properly (its threads stop) instead of being ignored
    while Qt's event loop runs: a timer lets Python's signal handler run every 200 ms. ``close`` replaces
    ``window.close`` (the kiosk's closes without asking for the admin password)."""
    signal.signal(signal.SIGINT, lambda *_: (close or window.close)())
    timer = QTimer(window, interval=200)
    timer.timeout.connect(lambda: None)
    timer.start()
