"""The enrollment wizard's first two pages: choose or take the photo, then check it."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWizardPage,
)

from faceguard.app.enrollment import Photo, prepare_photo, quality_text
from faceguard.core.errors import FaceGuardError, ImageError, QualityError
from faceguard.gui.admin.capture import CameraCapture
from faceguard.gui.admin.common import ERROR_STYLE, OK_STYLE, PHOTO_FILTER, WARNING_STYLE
from faceguard.gui.images import jpeg_to_pixmap
from faceguard.gui.tasks import error_text, run_task
from faceguard.store.templates import NewTemplate
from faceguard.vision.camera import Frame
from faceguard.vision.image_io import photo_source
from faceguard.vision.quality import QualityReport

if TYPE_CHECKING:
    from faceguard.gui.admin.wizard import EnrollmentWizard


class SourcePage(QWizardPage):
    """Choose a photo file or take one with the camera."""

    def __init__(self, wizard: EnrollmentWizard, countdown_ms: int) -> None:
        super().__init__()
        self.owner = wizard
        self.captured: Frame | None = None
        self.setTitle("Photo")
        self.setSubTitle("One clear, front-facing photo of the person is enough.")
        self.path_edit = QLineEdit(placeholderText="Path of a photo file")
        self.path_edit.textEdited.connect(self._path_typed)
        self.choose_button = QPushButton("Choose a photo…")
        self.choose_button.clicked.connect(self.choose_file)
        self.camera_button = QPushButton("Take a photo with the camera")
        self.camera_button.clicked.connect(self.start_camera)
        self.capture = CameraCapture(wizard.settings.camera, self, step_ms=countdown_ms)
        self.capture.captured.connect(self._captured)
        self.capture.hide()
        self.photo_label = QLabel(wordWrap=True)

        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.choose_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.camera_button, alignment=Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.capture)
        layout.addWidget(self.photo_label)
        layout.addStretch()

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a photo", self.path_edit.text(), PHOTO_FILTER)
        if path:
            self.path_edit.setText(path)
            self._path_typed()

    def start_camera(self) -> None:
        """Show the live preview; a new capture replaces the previous one."""
        self.captured = None
        self.photo_label.clear()
        self.completeChanged.emit()
        self.capture.show()
        self.capture.start()

    def isComplete(self) -> bool:
        return self.captured is not None or bool(self.path_edit.text().strip())

    def validatePage(self) -> bool:
        self.capture.stop()
        if self.captured is not None:
            self.owner.photo = Photo(f"camera:{self.owner.settings.camera}", image=self.captured.image)
        else:
            path = Path(self.path_edit.text().strip()).expanduser()
            self.owner.photo = Photo(photo_source(path), path=path)
        return True

    def _path_typed(self) -> None:
        """A file was named: it replaces a photo taken with the camera."""
        self.captured = None
        self.capture.stop()
        self.capture.hide()
        self.photo_label.clear()
        self.completeChanged.emit()

    def _captured(self, frame: Frame) -> None:
        self.captured = frame
        self.path_edit.clear()
        self.photo_label.setText("The photo taken with the camera will be used. Click Next to check it.")
        self.completeChanged.emit()


class CheckPage(QWizardPage):
    """Find, check and encode the face in the background; show the aligned face or what is wrong. A face
    below the recommended quality goes on only once the admin ticks "Enroll anyway"."""

    def __init__(self, wizard: EnrollmentWizard) -> None:
        super().__init__()
        self.owner = wizard
        self._job = 0  # results of an earlier photo (the user went back meanwhile) are ignored
        self._waiting = False
        self.setTitle("Check")
        self.setSubTitle("Is this photo good enough to recognise the person at the door?")
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.status_label = QLabel(wordWrap=True)
        self.face_label = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.quality_label = QLabel(wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter)
        self.accept_check = QCheckBox("Enroll anyway (recognition may be less reliable)")
        self.accept_check.toggled.connect(lambda _checked: self.completeChanged.emit())
        self.retry_button = QPushButton("Choose another photo")
        self.retry_button.clicked.connect(wizard.back)
        layout = QVBoxLayout(self)
        layout.addWidget(self.busy)
        layout.addWidget(self.status_label)
        layout.addWidget(self.face_label)
        layout.addWidget(self.quality_label)
        layout.addWidget(self.accept_check)
        layout.addWidget(self.retry_button, alignment=Qt.AlignmentFlag.AlignLeft)
        layout.addStretch()
        wizard.engine.ready.connect(self._engine_ready)
        wizard.engine.failed.connect(self._engine_failed)

    def initializePage(self) -> None:
        self.forget()
        self.face_label.clear()
        self.quality_label.clear()
        self.accept_check.hide()
        self.accept_check.setChecked(False)
        self.retry_button.hide()
        engine = self.owner.engine
        if engine.pipeline is not None:
            self._start()
        elif engine.error is not None:
            self._engine_failed(engine.error)
        else:
            self._waiting = True
            self._show_busy("Loading face engine…")
            engine.start(self.owner.settings)

    def cleanupPage(self) -> None:
        self.forget()

    def forget(self) -> None:
        """Drop the current template and ignore results still on their way."""
        self._job += 1
        self._waiting = False
        self.owner.template = None
        self.busy.hide()
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        template = self.owner.template
        return template is not None and (template.accepted_below is None or self.accept_check.isChecked())

    def _start(self) -> None:
        self._waiting = False
        self._show_busy("Checking the photo…")
        job = self._job
        run_task(
            prepare_photo,
            self.owner.engine.pipeline,
            self.owner.photo,
            on_result=lambda result: self._checked(job, result),
            on_error=lambda error: self._failed(job, error),
            parent=self,
        )

    def _show_busy(self, text: str) -> None:
        self.busy.show()
        self.status_label.setStyleSheet("")
        self.status_label.setText(text)

    def _engine_ready(self, _pipeline: object) -> None:
        if self._waiting:
            self._start()

    def _engine_failed(self, error: Exception) -> None:
        if self._waiting or self.owner.currentPage() is self:
            self._waiting = False
            self.busy.hide()
            self.status_label.setStyleSheet(ERROR_STYLE)
            reason = html.escape(error_text(error), quote=False)
            self.status_label.setText(f"The face engine could not be loaded: {reason}")

    def _checked(self, job: int, result: tuple[NewTemplate, QualityReport]) -> None:
        if job != self._job:
            return
        template, report = result
        self.busy.hide()
        if template.accepted_below is None:
            self.status_label.setStyleSheet(OK_STYLE)
            self.status_label.setText("Good photo. This is the face that will be stored:")
        else:
            self.status_label.setStyleSheet(WARNING_STYLE)
            self.status_label.setText(
                f"<b>Below the recommended quality.</b> {html.escape(template.accepted_below, quote=False)}"
            )
            self.accept_check.show()
            self.retry_button.show()
        self.face_label.setPixmap(jpeg_to_pixmap(template.thumbnail.jpeg, 240))
        self.quality_label.setText(quality_text(report))
        self.owner.template = template
        self.completeChanged.emit()

    def _failed(self, job: int, error: Exception) -> None:
        if job != self._job:
            return
        self.busy.hide()
        self.status_label.setStyleSheet(ERROR_STYLE)
        if isinstance(error, FaceGuardError):
            self.status_label.setText(f"<b>{_headline(error)}.</b> {html.escape(str(error), quote=False)}")
        else:
            self.status_label.setText(html.escape(error_text(error), quote=False))
        self.retry_button.show()


def _headline(error: FaceGuardError) -> str:
    """What is wrong with the photo, in a few words; the error's own message says what to do."""
    return error.headline if isinstance(error, ImageError | QualityError) else "The photo cannot be enrolled"
