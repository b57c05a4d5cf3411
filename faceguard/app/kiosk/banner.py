"""What the kiosk's big status banner says, decided from the camera, the engine and the decisions.

Priority: engine failure > camera offline > starting > a decision (held ``HOLD`` seconds, and for as
long as the decided face stays in view, unless it is paused since) > a face paused by the rate limit
(the wait, counted down) > a face being looked at (checking / look at the camera) > idle (clock and
site name).

While a face answers its liveness challenge the banner repeats the prompt. A face refused by the liveness
check (``Outcome.NOT_LIVE``) is ACCESS DENIED with the check's reason but neither the recognised name nor
the enrolled face: it may be a photo held up by someone else, who must learn neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from faceguard.access.policy import Outcome
from faceguard.app.kiosk.results import DecisionView, FaceState, FrameResult
from faceguard.core.clock import SYSTEM_CLOCK, Clock

#: Seconds a GRANTED / DENIED banner stays up.
HOLD = 3.0
#: Seconds without any face before the kiosk returns to its idle screen.
IDLE_AFTER = 1.5
#: The title while a face is paused by the rate limit (its label, the detail, says how long).
PAUSED_TITLE = "RECOGNITION PAUSED"


class Screen(StrEnum):
    STARTING = "starting"
    FAILED = "failed"  # the engine failed: the kiosk is out of service until a restart of it works
    OFFLINE = "offline"  # the camera is gone; reconnecting
    IDLE = "idle"
    CHECKING = "checking"
    LOOK = "look"  # a face is there but too poor to decide: instruct the person
    GRANTED = "granted"
    DENIED = "denied"


@dataclass(frozen=True)
class Banner:
    screen: Screen
    title: str
    detail: str = ""
    thumbnail: bytes | None = None  # the recognised person's enrolled face (JPEG)


class BannerModel:
    """Feed it what happens; ``banner()`` says what to show now. Durations are measured on the
    ``clock``'s monotonic seconds, the idle screen shows its wall time."""

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self.clock = clock
        self.starting: str | None = "Starting the camera and the face engine…"
        self.failure: str | None = None
        self.offline: str | None = None
        self.decision: tuple[float, DecisionView] | None = None
        self.faces: tuple[float, FrameResult] | None = None

    def engine_ready(self) -> None:
        self.starting = self.failure = None  # a restarted engine works again

    def engine_failed(self, message: str) -> None:
        self.failure = message

    def camera_status(self, message: str) -> None:
        self.offline = message or None

    def frame_result(self, result: FrameResult) -> None:
        now = self.clock.monotonic()
        if result.faces:
            self.faces = (now, result)
        for view in result.decisions:
            if view.decision.outcome is not Outcome.LOW_QUALITY:
                self.decision = (now, view)

    def banner(self, site_name: str) -> Banner:
        if self.failure:
            return Banner(Screen.FAILED, "OUT OF SERVICE", self.failure)
        if self.offline:
            return Banner(Screen.OFFLINE, "Camera offline", self.offline)
        if self.starting:
            return Banner(Screen.STARTING, "Starting…", self.starting)
        now = self.clock.monotonic()
        faces = self.faces[1].faces if self.faces is not None and now - self.faces[0] < IDLE_AFTER else ()
        paused = [face for face in faces if face.state is FaceState.PAUSED]
        if self.decision is not None:
            decided_at, view = self.decision
            in_view = view.decision.track_id in {face.track_id for face in faces}
            if (now - decided_at < HOLD or in_view) and view.decision.track_id not in {f.track_id for f in paused}:
                return _decision_banner(view)
        if paused:
            return Banner(Screen.DENIED, PAUSED_TITLE, paused[0].label)
        if faces:
            challenged = [face for face in faces if face.state is FaceState.CHECKING]
            if challenged:
                return Banner(Screen.CHECKING, "Checking…", challenged[0].label)
            if all(face.state is FaceState.POOR for face in faces):
                return Banner(Screen.LOOK, faces[0].label or "Look at the camera")
            return Banner(Screen.CHECKING, "Checking…", "Please look at the camera")
        local_time = self.clock.wall().astimezone().strftime("%H:%M")
        return Banner(Screen.IDLE, local_time, f"{site_name} — look at the camera to enter")


def _decision_banner(view: DecisionView) -> Banner:
    decision = view.decision
    if decision.granted:
        assert decision.person is not None
        return Banner(Screen.GRANTED, "ACCESS GRANTED", decision.person.name, view.thumbnail)
    if decision.outcome is Outcome.UNKNOWN:
        return Banner(Screen.DENIED, "ACCESS DENIED", "Unknown face", view.thumbnail)
    if decision.outcome is Outcome.RATE_LIMITED:
        return Banner(Screen.DENIED, PAUSED_TITLE, decision.message)
    if decision.outcome is Outcome.NOT_LIVE:
        name = decision.person.name if decision.person is not None else ""
        return Banner(Screen.DENIED, "ACCESS DENIED", decision.message.removeprefix(f"{name}: "))
    return Banner(Screen.DENIED, "ACCESS DENIED", decision.message, view.thumbnail)
