"""The QApplication every FaceGuard window runs in."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication


def application() -> QApplication:
    """The running QApplication, created with FaceGuard's name on first use."""
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("FaceGuard")
    app.setOrganizationName("FaceGuard")
    return app
