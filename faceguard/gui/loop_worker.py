"""The pattern both kiosk workers share: a loop in its own QThread, stopped by a flag it checks."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QThread

from faceguard.gui.tasks import start_kept_alive


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
        start_kept_alive(self._thread)  # it outlives a worker deleted without stop()

    def stop(self) -> None:
        self._thread.requestInterruption()
        self._thread.wait()

    def stopping(self) -> bool:
        return self._thread.isInterruptionRequested()

    def is_running(self) -> bool:
        return self._thread.isRunning()


class _LoopThread(QThread):
    def __init__(self, body: Callable[[], None]) -> None:
        super().__init__()
        self._body = body

    def run(self) -> None:
        self._body()
