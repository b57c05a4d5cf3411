"""The kiosk's watchdog: a worker that stops making progress, or whose face engine failed, is replaced
by a fresh one, and the kiosk says so on screen and in the log.

Every second it looks at each worker's last beat (``LoopWorker.beat``). A worker quiet for longer than
its stall limit is stuck in a call (a camera driver that never returns, an engine call that hangs): it
is abandoned (asked to stop and silenced; its thread ends whenever its call returns) and a fresh one
takes its place at once. A recognition worker that failed (its engine could not start, or raised an
unexpected error) is restarted after a pause that grows with the failures in a row (``BACKOFF``) and
starts again from the first once a worker has run ``STABLE`` s. ``restarts`` counts each worker's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer

from faceguard.core.memory import return_free_memory
from faceguard.gui.loop_worker import LoopWorker

log = logging.getLogger(__name__)

#: Milliseconds between looks at the workers.
CHECK_MS = 1000
#: Seconds without a frame or a reconnection attempt before the camera worker is restarted.
CAMERA_STALL = 10.0
#: Seconds without progress before a working recognition worker is restarted: longer than the camera's,
#: as a retention purge of a long access log or a gallery reload after a large import take seconds.
INFERENCE_STALL = 30.0
#: Seconds before each restart of a failed worker, by failures in a row; the last one repeats.
BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
#: Seconds a restarted worker must run before its failures in a row are forgotten.
STABLE = 60.0
#: Seconds ``stop()`` waits for each abandoned worker to end.
ABANDONED_WAIT = 5.0


@dataclass
class _Watched:
    """One worker the watchdog keeps going: how to get the current one and start a fresh one."""

    name: str
    stall: float
    stalled: str  # the message when it is restarted for being stuck
    current: Callable[[], LoopWorker]
    restart: Callable[[], None]
    pending: QTimer = field(default_factory=QTimer)  # a restart after a failure, waiting its turn
    reason: str = ""  # the last failure's
    failures: int = 0
    started: float = field(default_factory=time.monotonic)


class Watchdog(QObject):
    """Restarts the workers ``watch()`` names when they are stuck or have failed; ``notify(message)``
    shows each restart on screen, ``note`` keeps the last one."""

    def __init__(self, notify: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.notify = notify
        self.note = ""
        self.restarts: dict[str, int] = {}
        self._watched: dict[str, _Watched] = {}
        self._abandoned: list[LoopWorker] = []
        self._stopped = False
        self.timer = QTimer(self, interval=CHECK_MS)
        self.timer.timeout.connect(self.check)

    def watch(
        self, name: str, stall: float, stalled: str, current: Callable[[], LoopWorker], restart: Callable[[], None]
    ) -> None:
        """Keep the worker ``current()`` going: ``restart()`` must start a fresh one in its place."""
        watched = _Watched(name, stall, stalled, current, restart)
        watched.pending.setSingleShot(True)
        watched.pending.timeout.connect(lambda: self._restart(watched, f"{name} restarted after: {watched.reason}"))
        self._watched[name] = watched
        self.restarts[name] = 0

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        """Restart nothing more; wait a little for abandoned workers to end."""
        self._stopped = True
        self.timer.stop()
        for watched in self._watched.values():
            watched.pending.stop()
        for worker in self._abandoned:
            worker.wait(ABANDONED_WAIT)

    def failed(self, name: str, reason: str) -> str:
        """Worker ``name`` has failed for ``reason``: restart it after its backoff; returns the reason
        with when it restarts, for the screen."""
        watched = self._watched[name]
        if self._stopped:
            return reason
        delay = BACKOFF[min(watched.failures, len(BACKOFF) - 1)]
        watched.failures, watched.reason = watched.failures + 1, reason
        watched.pending.start(int(delay * 1000))
        log.warning("%s failed (%d in a row), restarting in %g s: %s", name, watched.failures, delay, reason)
        return f"{reason} Restarting in {delay:g} s."

    def check(self) -> None:
        """Restart each stuck worker; forget the failures of those running well; release abandoned ones that ended."""
        now = time.monotonic()
        for watched in self._watched.values():
            beat = watched.current().last_beat
            if watched.pending.isActive() or beat is None:
                continue
            if now - beat > watched.stall:
                self._restart(watched, watched.stalled)
            elif watched.failures and beat - watched.started >= STABLE:
                watched.failures = 0
        ended = [w for w in self._abandoned if not w.is_running()]
        for worker in ended:
            self._abandoned.remove(worker)
            worker.deleteLater()
        if ended:  # what the stuck call held (frames, a whole engine) can go back to the system now
            QTimer.singleShot(0, return_free_memory)

    def _restart(self, watched: _Watched, message: str) -> None:
        if self._stopped:
            return
        old = watched.current()
        if old.is_running():  # stuck in a call: waiting for it could take for ever
            old.abandon()
            self._abandoned.append(old)
        else:
            old.stop()
            old.deleteLater()
        watched.restart()
        watched.started = time.monotonic()
        self.restarts[watched.name] += 1
        log.warning("%s (restart %d)", message, self.restarts[watched.name])
        self.note = message
        self.notify(message)
