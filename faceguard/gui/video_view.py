"""The live picture with a box and a name around every face."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from faceguard.app.kiosk.results import FaceState, FaceView

STATE_COLOURS = {
    FaceState.KNOWN: "#2ecc71",
    FaceState.REFUSED: "#e53935",
    FaceState.UNKNOWN: "#e53935",
    FaceState.POOR: "#ffa000",
    FaceState.PENDING: "#64b5f6",
    FaceState.CHECKING: "#ffd600",
    FaceState.PAUSED: "#ff6d00",
}


class VideoView(QWidget):
    """Paints the newest frame scaled to fit (letterboxed) and the faces of the newest result."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.faces: tuple[FaceView, ...] = ()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)

    def set_frame(self, image: QImage) -> None:
        self.image = image
        self.update()

    def set_faces(self, faces: tuple[FaceView, ...]) -> None:
        self.faces = faces
        self.update()

    def paintEvent(self, event: object) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#000000"))
        if self.image is None or self.image.isNull():
            return
        scale = min(self.width() / self.image.width(), self.height() / self.image.height())
        left = (self.width() - self.image.width() * scale) / 2
        top = (self.height() - self.image.height() * scale) / 2
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(QRectF(left, top, self.image.width() * scale, self.image.height() * scale), self.image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(self.font())
        font.setPixelSize(max(14, int(self.height() / 24)))
        font.setBold(True)
        painter.setFont(font)
        for face in self.faces:
            x1, y1, x2, y2 = face.box
            box = QRectF(left + x1 * scale, top + y1 * scale, (x2 - x1) * scale, (y2 - y1) * scale)
            colour = QColor(STATE_COLOURS[face.state])
            painter.setPen(QPen(colour, 3))
            painter.drawRect(box)
            if face.label:
                text = painter.fontMetrics().boundingRect(face.label).adjusted(-6, -3, 6, 3)
                text.moveTopLeft(box.bottomLeft().toPoint())
                painter.fillRect(text, colour)
                painter.setPen(QColor("#000000"))
                painter.drawText(text, Qt.AlignmentFlag.AlignCenter, face.label)
