"""Run slow work (loading models, reading photos, writing the database) off the GUI thread.

``run_task(fn, *args, on_result=..., on_error=...)`` runs ``fn`` once in its own QThread; the callbacks
run in the GUI thread. Every exception is caught in the thread and handed to ``on_error``; a
``FaceGuardError`` carries a message written for the user, anything else is logged with its traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QThread, Signal

from faceguard.core.errors import FaceGuardError

log = logging.getLogger(__name__)


class TaskThread(QThread):
    """One call of ``fn(*args)``; emits ``succeeded(result)`` or ``failed(exception)``."""

    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(self, fn: Callable[..., Any], *args: Any, owner: QObject | None = None) -> None:
        super().__init__()  # never a Qt child: deleting the owner must not destroy a running thread
        self._call = (fn, args)
        self.owner = owner

    def run(self) -> None:
        fn, args = self._call
        try:
            result = fn(*args)
        except Exception as error:  # noqa: BLE001 - every failure reaches the GUI as a message
            if not isinstance(error, FaceGuardError):
                log.exception("Background task %s failed", getattr(fn, "__name__", fn))
            self.failed.emit(error)
        else:
            self.succeeded.emit(result)


#: Every started thread until it has ended: a QThread object destroyed while running aborts the app.
_alive: set[QThread] = set()


def start_kept_alive(thread: QThread) -> None:
    """Start ``thread`` and hold a reference to it until it has ended, whoever else lets go of it."""
    _alive.add(thread)
    thread.finished.connect(partial(_release, thread))
    thread.start()


def run_task(
    fn: Callable[..., Any],
    *args: Any,
    on_result: Callable[[Any], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
    parent: QObject | None = None,
) -> TaskThread:
    """Start ``fn(*args)`` in a new thread; ``on_result`` / ``on_error`` are called in the GUI thread.

    Pass the owning widget as ``parent`` and call ``wait_for_tasks(parent)`` when it closes."""
    task = TaskThread(fn, *args, owner=parent)
    if on_result is not None:
        task.succeeded.connect(on_result)
    if on_error is not None:
        task.failed.connect(on_error)
    start_kept_alive(task)
    return task


def wait_for_tasks(owner: QObject) -> None:
    """Block until the tasks started by ``owner`` or any widget inside it have finished (they are
    never killed mid-write)."""
    for thread in list(_alive):
        if isinstance(thread, TaskThread) and _inside(thread.owner, owner):
            thread.wait()


def _release(thread: QThread) -> None:
    thread.wait()  # "finished" comes from the thread just before it ends; let it end first
    _alive.discard(thread)


def _inside(child: QObject | None, owner: QObject) -> bool:
    while child is not None and shiboken6.isValid(child):
        if child is owner:
            return True
        child = child.parent()
    return False


def error_text(error: Exception) -> str:
    """The message to show: a FaceGuardError's own words, otherwise the exception type and text."""
    return str(error) if isinstance(error, FaceGuardError) else f"Unexpected error ({type(error).__name__}): {error}"
