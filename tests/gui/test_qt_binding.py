"""The Qt binding itself: a kiosk calls Qt millions of times a day, so a leak per call is fatal."""

from __future__ import annotations

import sys

from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QLabel


def test_qt_calls_keep_the_reference_count_of_none(qtbot):
    """PySide6 6.12.0 released a reference to None on every call of a method returning nothing; on
    Python < 3.12 (where None is not immortal) the kiosk aborted with "deallocating None" after a few
    thousand painted frames. The pinned binding must not do that."""
    label = QLabel()
    qtbot.addWidget(label)
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("x")
        painter.fillRect(image.rect(), QColor("#000000"))
    painter.end()
    assert sys.getrefcount(None) - before > -100
