"""Face inference in its own thread: takes the newest camera frame, emits what the engine made of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal

from faceguard.errors import FaceGuardError
from faceguard.gui.engine import load_pipeline
from faceguard.kiosk.mailbox import LatestFrame
from faceguard.settings import KioskSettings
from faceguard.store.repository import Store

if TYPE_CHECKING:
    from faceguard.vision.pipeline import FacePipeline

#: Runs once in the inference thread before the engine opens (the demo enrolls its people here).
Prepare = Callable[[Store, "FacePipeline"], None]


@dataclass(frozen=True)
class EngineInfo:
    model: str
    device: str
    people: int
    threshold: float


class InferenceWorker(QObject):
    """Opens its own Store (a sqlite connection belongs to one thread) and the face engine in a
    QThread, then processes the newest frame of ``mailbox`` until stopped.

    Signals: ``ready(EngineInfo)``; ``result(FrameResult)`` per processed frame; ``failed(exception)``
    when the engine cannot start (the kiosk is out of service); ``problem(exception)`` for a frame
    that could not be handled (e.g. the database stayed locked), after which work goes on."""

    ready = Signal(object)
    result = Signal(object)
    failed = Signal(object)
    problem = Signal(object)

    def __init__(self, db_path: Path, settings: KioskSettings, mailbox: LatestFrame, parent: QObject | None = None,
                 *, pipeline: FacePipeline | None = None, prepare: Prepare | None = None) -> None:
        super().__init__(parent)
        self.db_path, self.settings, self.mailbox = db_path, settings, mailbox
        self.pipeline, self.prepare = pipeline, prepare
        self._thread = _InferenceThread(self)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the loop to end and wait for it (at most one frame's work)."""
        self._thread.requestInterruption()
        self._thread.wait()

    def is_running(self) -> bool:
        return self._thread.isRunning()


class _InferenceThread(QThread):
    def __init__(self, worker: InferenceWorker) -> None:
        super().__init__()
        self.worker = worker

    def run(self) -> None:
        worker = self.worker
        try:
            from faceguard.kiosk.engine import KioskEngine  # torch loads here, not in the GUI thread

            store = Store.open(worker.db_path)
        except Exception as error:  # noqa: BLE001 - reported on screen
            worker.failed.emit(error)
            return
        try:
            pipeline = worker.pipeline or load_pipeline(worker.settings)
            if worker.prepare is not None:
                worker.prepare(store, pipeline)
            settings = worker.settings
            engine = KioskEngine.open(pipeline, store, settings.policy(), settings.door, settings.threshold)
            worker.ready.emit(EngineInfo(pipeline.spec.name, str(pipeline.encoder.device), len(engine.gallery),
                                         engine.threshold))
        except Exception as error:  # noqa: BLE001
            worker.failed.emit(error)
            store.close()
            return
        try:
            while not self.isInterruptionRequested():
                frame = worker.mailbox.take(timeout=0.1)
                if frame is None:
                    continue
                try:
                    worker.result.emit(engine.process(frame))
                except FaceGuardError as error:
                    worker.problem.emit(error)
        except Exception as error:  # noqa: BLE001 - an engine bug stops the kiosk visibly, never silently
            worker.failed.emit(error)
        finally:
            store.close()
