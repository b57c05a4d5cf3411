"""The pattern both kiosk workers share: a loop in its own QThread, stopped by a flag it checks."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread

from faceguard.gui.tasks import start_kept_alive


class LoopWorker(QObject):
    """Subclasses implement ``loop()``, which runs in a dedicated QThread after ``start()`` and checks
    ``stopping()`` between units of work; they report through their own signals, which Qt delivers
    to the GUI thread. ``stop()`` asks the loop to end and waits for it. ``loop()`` calls ``beat()`` at
    each unit of work: ``last_beat`` (monotonic seconds, None before the first) tells the kiosk's
    watchdog whether the loop is still making progress."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = _LoopThread(self.loop)
        self.last_beat: float | None = None

    def loop(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        start_kept_alive(self._thread)  # it outlives a worker deleted without stop()

    def stop(self) -> None:
        self._thread.requestInterruption()
        self._thread.wait()

    def abandon(self) -> None:
        """Give up on a loop stuck in a call: ask it to end and silence its signals, without waiting
        (a fresh worker takes its place; the stuck one ends when its call returns)."""
        self._thread.requestInterruption()
        self.blockSignals(True)

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the loop to end; whether it has."""
        return self._thread.wait(int(seconds * 1000))

    def stopping(self) -> bool:
        return self._thread.isInterruptionRequested()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def beat(self) -> None:
        self.last_beat = time.monotonic()


class _LoopThread(QThread):
    def __init__(self, body: Callable[[], None]) -> None:
        super().__init__()
        self._body = body

    def run(self) -> None:
        self._body()
