"""The pattern both kiosk workers share: a loop in its own QThread, stopped by a flag it checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QObject, QThread


class LoopWorker(QObject):
    """Subclasses implement ``loop()``, which runs in a dedicated QThread after ``start()`` and checks
    ``stopping()`` between units of work; they report through their own signals, which Qt delivers
    to the GUI thread. ``stop()`` asks the loop to end and waits for it."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread = _LoopThread(self.loop)

    def loop(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        _live.add(self._thread)
        self._thread.finished.connect(partial(_release, self._thread))
        self._thread.start()

    def stop(self) -> None:
        self._thread.requestInterruption()
        self._thread.wait()

    def stopping(self) -> bool:
        return self._thread.isInterruptionRequested()

    def is_running(self) -> bool:
        return self._thread.isRunning()


#: Every loop thread until it has ended, so it outlives a worker deleted without ``stop()``.
_live: set[QThread] = set()


def _release(thread: QThread) -> None:
    thread.wait()  # "finished" comes from the thread just before it ends; let it end first
    _live.discard(thread)


class _LoopThread(QThread):
    def __init__(self, body: Callable[[], None]) -> None:
        super().__init__()
        self._body = body

    def run(self) -> None:
        self._body()
