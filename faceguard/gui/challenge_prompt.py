"""The liveness challenge over the kiosk's video, readable from a metre away: a big arrow the way to turn,
the prompt, a countdown in whole seconds, how far the head has moved, and the nod alternative.

Left and right are the person's own: facing the screen, their left is the screen's left, so "Turn your
head to your left" gets an arrow on the screen's left pointing left. A nod gets up-down arrows on both
sides. Everything is painted with QPainter over the video (the widget is transparent elsewhere).
"""

from __future__ import annotations

import math
from enum import StrEnum

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPolygonF, QTransform
from PySide6.QtWidgets import QSizePolicy, QWidget

from faceguard.access.liveness import Move
from faceguard.app.kiosk.liveness import ChallengeView
from faceguard.app.kiosk.results import FaceState
from faceguard.gui.video_view import STATE_COLOURS

NOD_HINT = "Can't turn your head? Nod instead."
#: The arrow and the progress share the colour of the challenged face's box.
ARROW_COLOUR = STATE_COLOURS[FaceState.CHECKING]
BAND_COLOUR = QColor(0, 0, 0, 190)
TRACK_COLOUR = "#455a64"
#: The text band's share of the widget's height, and its least height in pixels.
BAND_SHARE, BAND_MIN_PX = 0.32, 120
#: An arrow's side as a share of the widget's width (bounded by the height above the band).
ARROW_SHARE = 0.24


class Arrow(StrEnum):
    """Which way the prompt's arrow points on the screen."""

    LEFT = "left"
    RIGHT = "right"
    UP_DOWN = "up-down"


ARROWS = {Move.TURN_LEFT: Arrow.LEFT, Move.TURN_RIGHT: Arrow.RIGHT, Move.NOD: Arrow.UP_DOWN}

# An arrow pointing left in a unit square (the tip at x = 0); mirrored for right, turned for the nod.
_LEFT_ARROW = ((0.0, 0.5), (0.5, 0.0), (0.5, 0.3), (1.0, 0.3), (1.0, 0.7), (0.5, 0.7), (0.5, 1.0))
_UP_DOWN_ARROW = (
    (0.5, 0.0),
    (0.85, 0.35),
    (0.62, 0.35),
    (0.62, 0.65),
    (0.85, 0.65),
    (0.5, 1.0),
    (0.15, 0.65),
    (0.38, 0.65),
    (0.38, 0.35),
    (0.15, 0.35),
)


def countdown_text(seconds_left: float) -> str:
    """The seconds left, rounded up: "5 s" until the last second is running, then "1 s"."""
    return f"{max(0, math.ceil(seconds_left))} s"


class ChallengePrompt(QWidget):
    """Shows one face's running challenge (``show_challenge``); hidden without one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.challenge: ChallengeView | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.hide()

    def show_challenge(self, challenge: ChallengeView | None) -> None:
        self.challenge = challenge
        self.setVisible(challenge is not None)
        self.update()

    @property
    def arrow(self) -> Arrow | None:
        return ARROWS[self.challenge.move] if self.challenge is not None else None

    @property
    def prompt(self) -> str:
        return self.challenge.move.prompt if self.challenge is not None else ""

    @property
    def countdown(self) -> str:
        return countdown_text(self.challenge.seconds_left) if self.challenge is not None else ""

    @property
    def hint(self) -> str:
        challenge = self.challenge
        return NOD_HINT if challenge is not None and challenge.nod_accepted and challenge.move is not Move.NOD else ""

    def band(self) -> QRectF:
        """The text band along the bottom: prompt, progress and hint on the left, countdown on the right."""
        height = min(float(self.height()), max(BAND_MIN_PX, BAND_SHARE * self.height()))
        return QRectF(0, self.height() - height, self.width(), height)

    def arrow_boxes(self) -> list[QRectF]:
        """Where the arrows go: the side they point to, centred in the height above the band."""
        if self.arrow is None:
            return []
        above = self.band().top()
        margin = 0.03 * min(self.width(), self.height())
        side = max(0.0, min(ARROW_SHARE * self.width(), above - 2 * margin))
        top = (above - side) / 2
        left = QRectF(margin, top, side, side)
        right = QRectF(self.width() - margin - side, top, side, side)
        return {Arrow.LEFT: [left], Arrow.RIGHT: [right], Arrow.UP_DOWN: [left, right]}[self.arrow]

    def paintEvent(self, event: object) -> None:  # noqa: N802 - Qt's name
        if self.challenge is None:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#000000"), 4))
        painter.setBrush(QColor(ARROW_COLOUR))
        arrow = ARROWS[self.challenge.move]
        for box in self.arrow_boxes():
            painter.drawPolygon(_arrow_polygon(arrow, box))
        self._paint_band(painter, self.band(), self.challenge.progress)

    def _paint_band(self, painter: QPainter, band: QRectF, progress: float) -> None:
        painter.fillRect(band, BAND_COLOUR)
        pad = 0.08 * band.height()
        clock = QRectF(band.right() - 0.2 * band.width(), band.top(), 0.2 * band.width() - pad, band.height())
        text = QRectF(
            band.left() + 2 * pad, band.top() + pad, clock.left() - band.left() - 3 * pad, 0.36 * band.height()
        )
        bar = QRectF(text.left(), text.bottom() + 0.06 * band.height(), text.width(), 0.12 * band.height())
        hint = QRectF(
            text.left(), bar.bottom() + 0.04 * band.height(), text.width(), band.bottom() - bar.bottom() - pad
        )

        self._text(painter, text, self.prompt, 0.3 * band.height(), "#ffffff", Qt.AlignmentFlag.AlignLeft)
        self._text(painter, clock, self.countdown, 0.46 * band.height(), ARROW_COLOUR, Qt.AlignmentFlag.AlignRight)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(TRACK_COLOUR))
        painter.drawRoundedRect(bar, bar.height() / 2, bar.height() / 2)
        if progress > 0:
            painter.setBrush(QColor(ARROW_COLOUR))
            done = QRectF(bar.left(), bar.top(), bar.width() * min(progress, 1.0), bar.height())
            painter.drawRoundedRect(done, bar.height() / 2, bar.height() / 2)
        if self.hint:
            self._text(painter, hint, self.hint, 0.17 * band.height(), "#cfd8dc", Qt.AlignmentFlag.AlignLeft)

    def _text(
        self, painter: QPainter, box: QRectF, text: str, pixels: float, colour: str, align: Qt.AlignmentFlag
    ) -> None:
        """Draw ``text`` bold in ``box``, as large as ``pixels`` and shrunk to fit its width."""
        font = QFont(self.font())
        font.setBold(True)
        font.setPixelSize(max(10, int(pixels)))
        painter.setFont(font)
        width = painter.fontMetrics().horizontalAdvance(text)
        if width > box.width() > 0:
            font.setPixelSize(max(10, int(pixels * box.width() / width)))
            painter.setFont(font)
        painter.setPen(QColor(colour))
        painter.drawText(box, align | Qt.AlignmentFlag.AlignVCenter, text)


def _arrow_polygon(arrow: Arrow, box: QRectF) -> QPolygonF:
    """The arrow's outline scaled into ``box``."""
    points = _UP_DOWN_ARROW if arrow is Arrow.UP_DOWN else _LEFT_ARROW
    to_box = QTransform(box.width(), 0, 0, box.height(), box.left(), box.top())
    if arrow is Arrow.RIGHT:  # the left arrow mirrored in the box
        to_box = QTransform(-box.width(), 0, 0, box.height(), box.right(), box.top())
    return to_box.map(QPolygonF([QPointF(x, y) for x, y in points]))
