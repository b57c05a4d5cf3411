"""Take one photo with the camera: a live preview, a 3-2-1 countdown, then the newest frame."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from faceguard.gui.camera_worker import CameraWorker
from faceguard.gui.images import rgb_to_qimage
from faceguard.vision.camera import Frame

PREVIEW_SIZE = (400, 300)


def show_frame(label: QLabel, frame: Frame) -> None:
    """Show ``frame`` in ``label``, scaled to fit the label's size."""
    pixmap = QPixmap.fromImage(rgb_to_qimage(frame.image))
    label.setPixmap(
        pixmap.scaled(label.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    )


class CameraCapture(QWidget):
    """A live preview of the camera ``spec``; "Take photo" counts down and emits ``captured(Frame)``
    with the newest frame, then stops the camera. A failing camera is reported in ``status_label``
    (the worker keeps retrying) and never blocks the rest of the window."""

    captured = Signal(object)

    def __init__(self, spec: str, parent: QWidget | None = None, *, countdown: int = 3, step_ms: int = 1000) -> None:
        super().__init__(parent)
        self.spec, self.countdown = spec, countdown
        self._worker: CameraWorker | None = None
        self._latest: Frame | None = None
        self._remaining = 0
        self._timer = QTimer(self, interval=step_ms)
        self._timer.timeout.connect(self._tick)

        self.preview = QLabel("The camera is off.", alignment=Qt.AlignmentFlag.AlignCenter)
        self.preview.setFixedSize(*PREVIEW_SIZE)
        self.preview.setStyleSheet("background: #222; color: #ddd;")
        self.countdown_label = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        font = QFont(self.countdown_label.font())
        font.setPointSize(28)
        font.setBold(True)
        self.countdown_label.setFont(font)
        self.status_label = QLabel(wordWrap=True)
        self.status_label.setStyleSheet("color: #b00020;")
        self.take_button = QPushButton(f"Take photo ({'-'.join(str(n) for n in range(countdown, 0, -1))})")
        self.take_button.setEnabled(False)
        self.take_button.clicked.connect(self.take)

        buttons = QHBoxLayout()
        buttons.addWidget(self.take_button)
        buttons.addWidget(self.countdown_label)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.preview)
        layout.addLayout(buttons)
        layout.addWidget(self.status_label)

    def is_running(self) -> bool:
        return self._worker is not None

    def start(self) -> None:
        """Open the camera and show its pictures (a no-op while it runs)."""
        if self._worker is not None:
            return
        self._latest = None
        self.preview.setText("Starting the camera…")
        self.countdown_label.clear()
        self.status_label.clear()
        self._worker = CameraWorker(self.spec, self)
        self._worker.frame.connect(self._on_frame)
        self._worker.status.connect(self._on_status)
        self._worker.start()

    def stop(self) -> None:
        """Stop the countdown and the camera; blocks until the capture thread has ended."""
        self._timer.stop()
        self.take_button.setEnabled(False)
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()
            worker.deleteLater()

    def take(self) -> None:
        """Count down, then capture the newest frame."""
        if self._worker is None or self._latest is None or self._timer.isActive():
            return
        self.take_button.setEnabled(False)
        self._remaining = self.countdown
        self.countdown_label.setText(str(self._remaining))
        self._timer.start()

    def _tick(self) -> None:
        self._remaining -= 1
        if self._remaining > 0:
            self.countdown_label.setText(str(self._remaining))
            return
        frame = self._latest
        self.stop()
        self.countdown_label.setText("Captured")
        if frame is not None:
            show_frame(self.preview, frame)
            self.captured.emit(frame)

    def _on_frame(self, frame: Frame) -> None:
        if self._worker is None:  # queued before stop()
            return
        self._latest = frame
        show_frame(self.preview, frame)
        self.take_button.setEnabled(not self._timer.isActive())

    def _on_status(self, text: str) -> None:
        if self._worker is None:
            return
        self.status_label.setText(text)
        if text:  # the camera failed: a countdown in progress would capture a stale picture
            self._timer.stop()
            self._latest = None
            self.take_button.setEnabled(False)
            self.countdown_label.clear()
            self.preview.setText("No picture from the camera.")
