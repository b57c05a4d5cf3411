"""The face engine for the admin window: loaded once, in the background, shared by every page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from faceguard.app.engine import settings_pipeline
from faceguard.app.settings import KioskSettings
from faceguard.gui.tasks import run_task, wait_for_tasks

if TYPE_CHECKING:
    from faceguard.vision.pipeline import FacePipeline


class EngineLoader(QObject):
    """Holds the FacePipeline once loaded (``pipeline``; ``ready(pipeline)`` when it arrives).

    ``failed(error)`` carries the reason (weights missing, device unavailable…) for the window to show."""

    ready = Signal(object)
    failed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pipeline: FacePipeline | None = None
        self.error: Exception | None = None
        self._loading = False

    @classmethod
    def loaded(cls, pipeline: FacePipeline, parent: QObject | None = None) -> EngineLoader:
        """An engine that is ready at once (tests, or a window sharing another's engine)."""
        engine = cls(parent)
        engine.pipeline = pipeline
        return engine

    def start(self, settings: KioskSettings) -> None:
        """Begin loading (once); ``ready`` or ``failed`` follows in the GUI thread."""
        if self.pipeline is None and not self._loading:
            self._loading, self.error = True, None
            run_task(settings_pipeline, settings, on_result=self._loaded, on_error=self._failed, parent=self)

    def wait(self) -> None:
        """Block until a load in progress ends (call before the owning window closes)."""
        wait_for_tasks(self)

    def _loaded(self, pipeline: FacePipeline) -> None:
        self._loading, self.pipeline = False, pipeline
        self.ready.emit(pipeline)

    def _failed(self, error: Exception) -> None:
        self._loading, self.error = False, error
        self.failed.emit(error)
