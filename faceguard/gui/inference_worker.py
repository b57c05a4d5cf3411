"""Face inference in its own thread: takes the newest camera frame, emits what the engine made of it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from faceguard.app.door_output import door_output, door_settings_changed
from faceguard.app.engine import settings_pipeline
from faceguard.app.kiosk.liveness import liveness_gate, liveness_settings_changed
from faceguard.app.kiosk.mailbox import LatestFrame
from faceguard.app.settings import KioskSettings, load_settings
from faceguard.app.site_threshold import SiteThreshold
from faceguard.core.errors import FaceGuardError
from faceguard.gui.loop_worker import LoopWorker
from faceguard.store.repository import Store

if TYPE_CHECKING:
    from faceguard.app.kiosk.pending import PendingEvents
    from faceguard.app.kiosk.session import KioskEngine
    from faceguard.vision.pipeline import FacePipeline

log = logging.getLogger(__name__)

#: Seconds between looks at the settings an administrator may have saved.
SETTINGS_POLL = 2.0
#: Runs once in the inference thread before the engine opens (the demo enrolls its people here).
Prepare = Callable[[Store, "FacePipeline"], None]


@dataclass(frozen=True)
class SettingsChange:
    """The stored settings before and after an administrator's change, and the fields that differ."""

    before: KioskSettings
    after: KioskSettings

    @property
    def fields(self) -> set[str]:
        return {name for name, value in asdict(self.after).items() if getattr(self.before, name) != value}


class InferenceWorker(LoopWorker):
    """Opens its own Store (a sqlite connection belongs to one thread) and the face engine in its
    thread, then processes the newest frame of ``mailbox`` until stopped.

    Signals: ``ready()`` once the engine works; ``result(FrameResult)`` per processed frame; ``failed(exception)``
    when the engine cannot start or fails unexpectedly, after which the loop has ended (the kiosk's
    watchdog starts a fresh worker); ``problem(exception)`` for a frame
    that could not be handled (e.g. the database stayed locked), after which work goes on;
    ``settings_changed(SettingsChange)`` when an administrator saved new settings in the database
    (voting, threshold, door name, door output and liveness checks apply at once, here; the window
    handles the rest). The door output the settings choose is locked when the engine starts and when
    the loop ends. ``forced_liveness``: a liveness mode given at start that stored settings do not change.
    ``pending``: the access events not yet written, kept by the kiosk across its workers. ``create``: whether
    a missing database file is created (a restarted worker must not replace one briefly moved away by an
    empty one). The loop beats once the engine works (its start may take long: the watchdog waits).
    ``pipeline`` keeps the engine it loaded, for a restart."""

    ready = Signal()
    result = Signal(object)
    failed = Signal(object)
    problem = Signal(object)
    settings_changed = Signal(object)

    def __init__(
        self,
        db_path: Path,
        settings: KioskSettings,
        mailbox: LatestFrame,
        parent: QObject | None = None,
        *,
        pipeline: FacePipeline | None = None,
        prepare: Prepare | None = None,
        forced_liveness: str | None = None,
        pending: PendingEvents | None = None,
        create: bool = True,
    ) -> None:
        super().__init__(parent)
        self.db_path, self.settings, self.mailbox = db_path, settings, mailbox
        self.pipeline, self.prepare, self.forced_liveness = pipeline, prepare, forced_liveness
        self.pending, self.create = pending, create

    def loop(self) -> None:
        try:
            from faceguard.app.kiosk.session import KioskEngine  # torch loads here, not in the GUI thread

            store = Store.open(self.db_path, create=self.create)
        except Exception as error:  # noqa: BLE001 - reported on screen
            self._fail(error)
            return
        try:
            pipeline = self.pipeline = self.pipeline or settings_pipeline(self.settings)
            if self.prepare is not None:
                self.prepare(store, pipeline)
            settings = self._forced(self.settings)
            threshold = SiteThreshold.for_model(pipeline.spec, settings.max_fpir, settings.threshold)
            engine = KioskEngine.open(
                pipeline,
                store,
                settings.policy(),
                settings.door,
                threshold,
                door_output=door_output(settings),
                liveness=liveness_gate(settings),
                rate_limit=settings.rate_limit(),
                pending=self.pending,
            )
            stored = load_settings(store)  # changes to these are followed while the kiosk runs
            self.ready.emit()
        except Exception as error:  # noqa: BLE001
            self._fail(error)
            store.close()
            return
        try:
            checked = time.monotonic()
            while not self.stopping():
                self.beat()
                if time.monotonic() - checked >= SETTINGS_POLL:
                    stored, checked = self._follow_settings(store, engine, stored), time.monotonic()
                frame = self.mailbox.take(timeout=0.1)
                if frame is None:
                    continue
                try:
                    self.result.emit(engine.process(frame))
                except FaceGuardError as error:
                    self.problem.emit(error)
        except Exception as error:  # noqa: BLE001 - an engine bug is shown, logged, and the worker restarted
            self._fail(error)
        finally:
            engine.close_door()
            store.close()
            if self.stopping():  # stopped, or abandoned as stuck: its models are not reused, let them go
                self.pipeline = None

    def _fail(self, error: Exception) -> None:
        if not isinstance(error, FaceGuardError):
            log.error("The face engine failed", exc_info=error)
        self.failed.emit(error)

    def _forced(self, settings: KioskSettings) -> KioskSettings:
        """The settings with the liveness mode given at start, if one was."""
        return replace(settings, liveness=self.forced_liveness) if self.forced_liveness else settings

    def _follow_settings(self, store: Store, engine: KioskEngine, stored: KioskSettings) -> KioskSettings:
        """Apply settings saved in the database since ``stored``; returns the settings now in force."""
        try:
            current = load_settings(store)
            if current != stored and liveness_settings_changed(self._forced(stored), self._forced(current)):
                engine.set_liveness(liveness_gate(self._forced(current)))
        except (ValueError, FaceGuardError) as error:  # a bad stored value, a locked file, an unreadable model
            self.problem.emit(error)
            return stored
        if current != stored:
            threshold = SiteThreshold.for_model(engine.pipeline.spec, current.max_fpir, current.threshold)
            engine.reconfigure(current.policy(), current.door, threshold, current.rate_limit())
            if door_settings_changed(stored, current):
                engine.close_door()
                engine.set_door_output(door_output(current))
            self.settings_changed.emit(SettingsChange(stored, current))
        return current
