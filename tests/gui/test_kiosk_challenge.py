"""The kiosk window's liveness challenge: the engine's results fed to the window's result slot show the
prompt over the video (arrow, text, countdown, progress, nod hint) and hide it when the challenge ends;
the rendered pixels show the arrow on the side the person must turn to, pointing that way."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from PySide6.QtGui import QImage

from faceguard.access.liveness import Move
from faceguard.access.policy import Decision, Outcome, PersonStatus
from faceguard.app.kiosk.banner import Screen
from faceguard.app.kiosk.liveness import ChallengeView
from faceguard.app.kiosk.results import DecisionView, FaceState, FaceView, FrameResult
from faceguard.app.settings import KioskSettings
from faceguard.gui.challenge_prompt import ARROW_COLOUR, NOD_HINT, Arrow, ChallengePrompt
from faceguard.gui.images import rgb_to_qimage
from faceguard.gui.kiosk import KioskWindow
from faceguard.gui.video_view import STATE_COLOURS

OBAMA = PersonStatus(1, "Barack Obama", True, None, None)
BOX = (220.0, 120.0, 420.0, 360.0)


@pytest.fixture
def window(qtbot, tmp_path):
    """A kiosk window whose workers are not started: the test plays the engine through its result slot."""
    window = KioskWindow(tmp_path / "kiosk.db", KioskSettings(camera=str(tmp_path), sound=False))
    qtbot.addWidget(window)
    window.show()
    window.model.engine_ready()
    window.video.set_frame(rgb_to_qimage(np.full((480, 640, 3), 90, np.uint8)))
    return window


def frame(challenges=(), state=FaceState.CHECKING, decisions=()) -> FrameResult:
    label = challenges[0].move.prompt if challenges else "Barack Obama"
    return FrameResult(7, 0.0, (FaceView(1, BOX, label, state),), tuple(decisions), {}, challenges=tuple(challenges))


def challenge(move: Move, seconds_left: float = 4.2, progress: float = 0.4, nod: bool = True) -> ChallengeView:
    return ChallengeView(1, move, seconds_left, progress, nod)


def arrow_pixels(prompt: ChallengePrompt) -> np.ndarray:
    """Where the rendered prompt is the arrow's colour, above its text band (a boolean image)."""
    image = prompt.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    rgb = pixels[:, : image.width() * 3].reshape(image.height(), image.width(), 3).astype(int)
    target = np.array([int(ARROW_COLOUR[i : i + 2], 16) for i in (1, 3, 5)])
    scale = image.height() / prompt.height()  # a high-dpi grab
    return (np.abs(rgb - target).sum(axis=2) < 40)[: int(prompt.band().top() * scale)]


def pointing(mask: np.ndarray) -> str:
    """Which way the arrow in ``mask`` points: its head (the taller part) is on that side of its middle."""
    columns = np.flatnonzero(mask.any(axis=0))
    left, right = columns.min(), columns.max()
    heights = mask.sum(axis=0)
    near_left, near_right = heights[left + (right - left) * 3 // 10], heights[left + (right - left) * 7 // 10]
    return "left" if near_left > near_right else "right"


def test_the_challenge_shows_over_the_video_and_disappears_when_it_ends(window):
    window._on_result(frame([challenge(Move.TURN_LEFT, seconds_left=4.2, progress=0.4)]))
    prompt = window.challenge_prompt
    assert prompt.isVisible() and prompt.geometry() == window.video.geometry()
    assert (prompt.arrow, prompt.prompt, prompt.countdown, prompt.hint) == (
        Arrow.LEFT,
        "Turn your head to your left",
        "5 s",
        NOD_HINT,
    )
    assert window.current_banner.screen is Screen.CHECKING and window.current_banner.detail == prompt.prompt

    window._on_result(frame([challenge(Move.TURN_RIGHT, seconds_left=0.3, nod=False)]))  # the other way, last second
    assert (prompt.arrow, prompt.prompt, prompt.countdown, prompt.hint) == (
        Arrow.RIGHT,
        "Turn your head to your right",
        "1 s",
        "",
    )

    window._on_result(frame([challenge(Move.NOD, nod=True)]))  # asked to nod: no need to offer the nod
    assert (prompt.arrow, prompt.prompt, prompt.hint) == (Arrow.UP_DOWN, "Nod your head", "")

    window._on_result(frame(state=FaceState.KNOWN))  # passed: the engine reports no challenge
    assert not prompt.isVisible() and prompt.arrow is None


def test_a_failed_check_hides_the_prompt_and_shows_access_denied_with_the_reason(window):
    window._on_result(frame([challenge(Move.TURN_LEFT, seconds_left=0.1)]))
    message = "Barack Obama: Liveness check failed: no head turn to the left within 5 s."
    decision = Decision(Outcome.NOT_LIVE, datetime.now(UTC), 1, OBAMA, 0.3, 0.6, message)
    window._on_result(frame(state=FaceState.KNOWN, decisions=[DecisionView(decision, b"\xff\xd8", 5.3)]))
    assert not window.challenge_prompt.isVisible()
    banner = window.current_banner
    assert (banner.screen, banner.title) == (Screen.DENIED, "ACCESS DENIED")
    assert banner.detail == "Liveness check failed: no head turn to the left within 5 s."
    assert not window.banner.face.isVisible() and "Obama" not in window.banner.detail.text()


@pytest.mark.parametrize(
    ("move", "sides"),
    [(Move.TURN_LEFT, {"left"}), (Move.TURN_RIGHT, {"right"}), (Move.NOD, {"left", "right"})],
)
def test_the_arrow_is_drawn_on_the_side_to_turn_to_and_points_that_way(window, move, sides):
    window._on_result(frame([challenge(move)]))
    mask = arrow_pixels(window.challenge_prompt)
    third = mask.shape[1] // 3
    area = {"left": mask[:, :third], "right": mask[:, -third:]}
    drawn = {side for side, part in area.items() if part.sum() > 0.02 * part.size}
    assert drawn == sides
    assert not mask[:, third:-third].any()  # the middle (the face) stays clear
    if move is Move.NOD:  # up-down: as tall as it is wide, pointing neither way
        rows = np.flatnonzero(area["left"].any(axis=1))
        assert rows.max() - rows.min() >= 0.9 * np.ptp(np.flatnonzero(area["left"].any(axis=0)))
    else:
        assert pointing(area[next(iter(sides))]) == next(iter(sides))


def test_the_progress_bar_fills_with_the_head_movement(window):
    def filled(progress: float) -> int:
        window._on_result(frame([challenge(Move.TURN_LEFT, progress=progress)]))
        image = window.challenge_prompt.grab().toImage()
        band = window.challenge_prompt.band()
        row = int((band.top() + 0.56 * band.height()) * image.height() / window.challenge_prompt.height())
        bar_end = int(0.78 * image.width())  # the countdown (same colour) is right of the bar
        return sum(image.pixelColor(x, row).name() == ARROW_COLOUR for x in range(bar_end))

    assert filled(0.0) == 0
    assert filled(0.25) > 0 and abs(filled(0.75) / filled(0.25) - 3) < 0.2


def test_the_challenged_face_gets_the_checking_colour(window):
    def colours(result: FrameResult) -> set[str]:
        window._on_result(result)
        image = window.video.grab().toImage()
        return {image.pixelColor(x, y).name() for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)}

    checking = STATE_COLOURS[FaceState.CHECKING]
    assert checking in colours(frame([challenge(Move.TURN_LEFT)]))
    assert checking not in colours(frame(state=FaceState.KNOWN))
