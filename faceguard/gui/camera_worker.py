"""Camera capture in its own thread, reconnecting with backoff when the camera fails."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal

from faceguard.app.kiosk.mailbox import LatestFrame
from faceguard.core.errors import CameraError
from faceguard.gui.loop_worker import LoopWorker
from faceguard.vision.camera import Frame, open_source

#: Seconds to wait before each reconnection attempt; the last one repeats.
BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0)


class CameraWorker(LoopWorker):
    """Reads ``spec`` (see ``faceguard.vision.camera.open_source``) in a QThread.

    Signals: ``frame(Frame)`` for every picture; ``status(str)`` with "Camera offline: … retrying in
    N s" when the source fails, and "" once pictures flow again. Frames also go to ``mailbox`` when
    given (the inference thread takes the newest one from there). It beats at each frame and while it
    waits to reconnect: only a source stuck in a call goes quiet."""

    frame = Signal(object)
    status = Signal(str)

    def __init__(
        self, spec: str, parent: QObject | None = None, *, fps: float = 15.0, mailbox: LatestFrame | None = None
    ) -> None:
        super().__init__(parent)
        self.spec, self.fps, self.mailbox = spec, fps, mailbox

    def loop(self) -> None:
        """Capture until stopped (``stop()`` waits at most one frame or one backoff step)."""
        failures, index = 0, 0
        while not self.stopping():
            self.beat()
            try:
                source = open_source(self.spec, fps=self.fps)
            except CameraError as error:
                failures = self._back_off(error, failures)
                continue
            try:
                while not self.stopping():
                    frame = Frame.capture(source.read(), index)
                    index += 1
                    self.beat()
                    if failures:
                        failures = 0
                        self.status.emit("")
                    if self.mailbox is not None:
                        self.mailbox.put(frame)
                    self.frame.emit(frame)
            except CameraError as error:
                failures = self._back_off(error, failures)
            finally:
                source.close()

    def _back_off(self, error: CameraError, failures: int) -> int:
        delay = BACKOFF[min(failures, len(BACKOFF) - 1)]
        self.status.emit(f"Camera offline: {error} Retrying in {delay:g} s.")
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and not self.stopping():
            self.beat()
            time.sleep(0.05)
        return failures + 1
