"""A one-slot mailbox between the camera and inference threads: the newest frame wins."""

from __future__ import annotations

import threading

from faceguard.vision.camera import Frame


class LatestFrame:
    """``put`` replaces any frame not yet taken (counted in ``dropped``); ``take`` waits for a new one."""

    def __init__(self) -> None:
        self._frame: Frame | None = None
        self._ready = threading.Condition()
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        with self._ready:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self._ready.notify()

    def take(self, timeout: float) -> Frame | None:
        """The newest frame not taken yet, or None when none arrives within ``timeout`` seconds."""
        with self._ready:
            if self._frame is None:
                self._ready.wait(timeout)
            frame, self._frame = self._frame, None
            return frame
