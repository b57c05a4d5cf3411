"""The enrollment wizard: one photo (a file or the camera) → a checked face → details and consent → stored.

Nothing is written to the database before the Details page's "Enroll" button: the person, their
template and the consent time go in one transaction, so cancelling at any step leaves no trace.
The neural networks run in background tasks; the Store is used only in the GUI thread.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from faceguard.app.settings import KioskSettings
from faceguard.core.clock import day_end, day_start
from faceguard.core.errors import (
    BlurryFaceError,
    ConflictError,
    ExposureError,
    FaceGuardError,
    FaceTooSmallError,
    ImageError,
    MultipleFacesError,
    NoFaceError,
    NotFrontalError,
)
from faceguard.gui.admin.capture import CameraCapture, show_frame
from faceguard.gui.admin.common import PHOTO_FILTER
from faceguard.gui.camera_worker import CameraWorker
from faceguard.gui.images import jpeg_to_pixmap
from faceguard.gui.pipeline_loader import EngineLoader
from faceguard.gui.tasks import error_text, run_task, wait_for_tasks
from faceguard.matching.gallery import verify
from faceguard.store.people import Person
from faceguard.store.repository import Store
from faceguard.store.templates import NewTemplate
from faceguard.store.timestamps import now
from faceguard.vision.camera import Frame
from faceguard.vision.image_io import photo_source
from faceguard.vision.quality import QualityReport, QualityThresholds

if TYPE_CHECKING:
    from faceguard.vision.pipeline import FacePipeline

SOURCE, CHECK, DETAILS, DONE = range(4)
ERROR_STYLE = "color: #b00020;"
WARNING_STYLE = "color: #9a6700;"  # amber: usable, but below the recommended quality
OK_STYLE = "color: #1b5e20;"
#: How long "Verify now" watches the camera before saying the person was not recognised.
VERIFY_SECONDS = 10.0


@dataclass(frozen=True, eq=False)
class Photo:
    """The photo to enroll from: a file still to read, or a frame the camera captured."""

    source: str  # stored with the template, e.g. "photo:alice.jpg" or "camera:0"
    path: Path | None = None
    image: np.ndarray | None = None


def prepare(pipeline: FacePipeline, photo: Photo) -> tuple[NewTemplate, QualityReport]:
    """Read the photo (if a file) and check and encode its one face (runs in a background task). A face
    below the recommended quality is prepared too, its template carrying the warning the admin must accept."""
    from faceguard.app.enrollment import prepare_template, template_from_file  # torch: off the GUI thread

    if photo.image is None:
        return template_from_file(pipeline, photo.path, accept_low_quality=True)
    return prepare_template(pipeline, photo.image, photo.source, accept_low_quality=True)


def encode_frame(pipeline: FacePipeline, image: np.ndarray) -> np.ndarray:
    """Encodings (N, D) of every face in a camera frame, (0, 0) when there is none (background task)."""
    encoded = pipeline.encode_faces(image)
    return np.stack([face.encoding for face in encoded]) if encoded else np.empty((0, 0), np.float32)


def guidance(error: Exception) -> str:
    """A headline naming what is wrong with the photo; the error's own message says what to do."""
    headlines: list[tuple[type[Exception], str]] = [
        (NoFaceError, "No face found"),
        (FaceTooSmallError, "The face is too small"),
        (BlurryFaceError, "The photo is blurred"),
        (ExposureError, "The face is too dark or too bright"),
        (NotFrontalError, "The face is turned away"),
        (ImageError, "The file cannot be used"),
    ]
    if isinstance(error, MultipleFacesError):
        return f"{error.count} faces found"
    return next((text for kind, text in headlines if isinstance(error, kind)), "The photo cannot be enrolled")


def quality_text(report: QualityReport, limits: QualityThresholds = QualityThresholds()) -> str:
    """The measured figures beside the limits they passed; a limit that is switched off is not shown."""
    return " · ".join(
        [
            figure_text(f"Face {report.face_size:.0f} px wide", "≥", limits.min_face_size),
            figure_text(f"sharpness {report.sharpness:.0f}", "≥", limits.min_sharpness),
            f"brightness {report.brightness:.0f} ({limits.min_brightness:.0f}–{limits.max_brightness:.0f})",
            figure_text(f"turned {abs(report.yaw):.2f}", "≤", limits.max_yaw, digits=2),
        ]
    )


def figure_text(figure: str, relation: str, limit: float, digits: int = 0) -> str:
    """``figure`` followed by its limit, e.g. "(≥ 60)", unless the limit is off (infinite)."""
    return f"{figure} ({relation} {limit:.{digits}f})" if math.isfinite(limit) else figure


class EnrollmentWizard(QWizard):
    """Enroll one person from one photo. Emits ``enrolled(person_id)`` once they are stored."""

    enrolled = Signal(int)

    def __init__(
        self,
        store: Store,
        engine: EngineLoader,
        settings: KioskSettings,
        parent: QWidget | None = None,
        *,
        countdown_ms: int = 1000,
        verify_seconds: float = VERIFY_SECONDS,
    ) -> None:
        super().__init__(parent)
        self.store, self.engine, self.settings = store, engine, settings
        self.photo: Photo | None = None
        self.template: NewTemplate | None = None
        self.person: Person | None = None
        self.setWindowTitle("Enroll a person")
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage)
        self.source_page = SourcePage(self, countdown_ms)
        self.check_page = CheckPage(self)
        self.details_page = DetailsPage(self)
        self.done_page = DonePage(self, verify_seconds)
        for page_id, page in enumerate([self.source_page, self.check_page, self.details_page, self.done_page]):
            self.setPage(page_id, page)
        self.setStartId(SOURCE)

    @property
    def threshold(self) -> float:
        """The kiosk's distance threshold: the configured one, else the model's own."""
        return self.settings.threshold if self.settings.threshold is not None else self.engine.pipeline.threshold

    def enroll(self, name: str, **details: object) -> Person:
        """Store the person, the checked template and the consent time in one transaction."""
        person = self.store.enroll(name, self.template, **details, consent_at=now(), consent_method="wizard")
        self.person = person
        self.enrolled.emit(person.id)
        return person

    def shutdown(self) -> None:
        """Stop the cameras and wait for background work (before the window goes away)."""
        self.source_page.capture.stop()
        self.check_page.forget()
        self.done_page.stop_verify()
        wait_for_tasks(self)

    def done(self, result: int) -> None:
        self.shutdown()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)


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
            prepare,
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
            self.status_label.setText(f"<b>{guidance(error)}.</b> {html.escape(str(error), quote=False)}")
        else:
            self.status_label.setText(html.escape(error_text(error), quote=False))
        self.retry_button.show()


class DetailsPage(QWizardPage):
    """Name, badge, group, validity, notes and the person's consent; "Enroll" stores everything."""

    def __init__(self, wizard: EnrollmentWizard) -> None:
        super().__init__()
        self.owner = wizard
        self.setTitle("Details")
        self.setSubTitle("Who is this? Only the name and the person's consent are required.")
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Enroll")
        self.name_edit = QLineEdit()
        self.badge_edit = QLineEdit(placeholderText="optional, unique")
        self.group_edit = QLineEdit(placeholderText="optional, e.g. staff or visitors")
        self.from_check, self.from_edit = QCheckBox("from"), self._date_edit()
        self.until_check, self.until_edit = QCheckBox("until"), self._date_edit()
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setFixedHeight(60)
        self.consent_check = QCheckBox()
        self.error_label = QLabel(wordWrap=True, textFormat=Qt.TextFormat.PlainText)
        self.error_label.setStyleSheet(ERROR_STYLE)

        validity = QHBoxLayout()
        for check, edit in ((self.from_check, self.from_edit), (self.until_check, self.until_edit)):
            check.toggled.connect(edit.setEnabled)
            validity.addWidget(check)
            validity.addWidget(edit)
        validity.addStretch()
        form = QFormLayout(self)
        form.addRow("Name:", self.name_edit)
        form.addRow("Badge:", self.badge_edit)
        form.addRow("Group:", self.group_edit)
        form.addRow("Access valid:", validity)
        form.addRow("Notes:", self.notes_edit)
        form.addRow(self.consent_check)
        form.addRow(self.error_label)
        self.name_edit.textChanged.connect(self._name_changed)
        self.consent_check.toggled.connect(lambda _checked: self.completeChanged.emit())
        self._name_changed("")

    @staticmethod
    def _date_edit() -> QDateEdit:
        edit = QDateEdit(QDate.currentDate(), calendarPopup=True, displayFormat="yyyy-MM-dd")
        edit.setEnabled(False)
        return edit

    def isComplete(self) -> bool:
        return bool(self.name_edit.text().strip()) and self.consent_check.isChecked()

    def validatePage(self) -> bool:
        """Store the person now; on a refusal stay here with the message and the typed values."""
        self.error_label.clear()
        valid_from = self._moment(self.from_check, self.from_edit, day_start)
        valid_until = self._moment(self.until_check, self.until_edit, day_end)
        if valid_from and valid_until and valid_until < valid_from:
            self.error_label.setText("The access cannot end before it starts: 'until' is before 'from'.")
            return False
        try:
            self.owner.enroll(
                self.name_edit.text(),
                badge=self.badge_edit.text().strip() or None,
                group=self.group_edit.text().strip() or None,
                valid_from=valid_from,
                valid_until=valid_until,
                notes=self.notes_edit.toPlainText().strip() or None,
            )
        except ConflictError as error:
            self.error_label.setText(f"{error} Choose another badge number, or leave it empty.")
            self.badge_edit.setFocus()
            return False
        except (FaceGuardError, ValueError) as error:
            self.error_label.setText(error_text(error) if isinstance(error, FaceGuardError) else str(error))
            return False
        return True

    def _name_changed(self, name: str) -> None:
        who = name.strip() or "The person"
        self.consent_check.setText(f"{who} agreed to have their face stored for door access")
        self.completeChanged.emit()

    @staticmethod
    def _moment(check: QCheckBox, edit: QDateEdit, bound: Callable[[date], datetime]) -> datetime | None:
        """The chosen day's first or last moment (``bound``: day_start or day_end), or None when not limited."""
        if not check.isChecked():
            return None
        day = edit.date()
        return bound(date(day.year(), day.month(), day.day()))


class DonePage(QWizardPage):
    """Confirms the enrollment; "Verify now" checks that the camera recognises the person."""

    def __init__(self, wizard: EnrollmentWizard, verify_seconds: float) -> None:
        super().__init__()
        self.owner = wizard
        self.verify_seconds = verify_seconds
        self._worker: CameraWorker | None = None
        self._encoding = False  # one frame at a time is encoded; the others only update the preview
        self._reference = np.empty((0, 0), np.float32)
        self._nearest: float | None = None
        self._deadline = QTimer(self, singleShot=True)
        self._deadline.timeout.connect(self._time_is_up)
        self.setTitle("Done")
        self.result_label = QLabel(textFormat=Qt.TextFormat.PlainText)  # names are shown as typed
        self.face_label = QLabel()
        self.verify_button = QPushButton("Verify now: look at the camera")
        self.verify_button.clicked.connect(self.start_verify)
        self.preview = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.preview.setFixedSize(320, 240)
        self.preview.hide()
        self.verify_label = QLabel(wordWrap=True, textFormat=Qt.TextFormat.PlainText)
        self.camera_label = QLabel(wordWrap=True)
        self.camera_label.setStyleSheet(ERROR_STYLE)
        layout = QVBoxLayout(self)
        layout.addWidget(self.result_label)
        layout.addWidget(self.face_label)
        layout.addWidget(self.verify_button, alignment=Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.preview)
        layout.addWidget(self.verify_label)
        layout.addWidget(self.camera_label)
        layout.addStretch()

    def initializePage(self) -> None:
        person = self.owner.person
        self.result_label.setText(f"Enrolled {person.name} (#{person.id})")
        self.face_label.setPixmap(jpeg_to_pixmap(self.owner.template.thumbnail.jpeg, 120))

    def is_verifying(self) -> bool:
        return self._worker is not None

    def start_verify(self) -> None:
        """Watch the camera for up to ``verify_seconds``, encoding one frame at a time."""
        person, pipeline = self.owner.person, self.owner.engine.pipeline
        try:  # what was stored, read back: the kiosk will compare with exactly this
            templates = self.owner.store.templates(person.id)
        except FaceGuardError as error:
            self.verify_label.setStyleSheet(ERROR_STYLE)
            self.verify_label.setText(str(error))
            return
        self._reference = np.stack([t.encoding for t in templates if t.model_id == pipeline.spec.id])
        self._nearest = None
        self.verify_button.setEnabled(False)
        self.verify_label.setStyleSheet("")
        self.verify_label.setText(f"Looking for {person.name}…")
        self.camera_label.clear()
        self.preview.setText("Starting the camera…")
        self.preview.show()
        self._worker = CameraWorker(self.owner.settings.camera, self)
        self._worker.frame.connect(self._on_frame)
        self._worker.status.connect(self._on_status)
        self._worker.start()
        self._deadline.start(round(self.verify_seconds * 1000))

    def stop_verify(self) -> None:
        """Stop the camera (blocks until its thread ended); encodings still running are ignored."""
        self._deadline.stop()
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()
            worker.deleteLater()
        self.verify_button.setEnabled(True)

    def _on_frame(self, frame: Frame) -> None:
        if self._worker is None:
            return
        show_frame(self.preview, frame)
        if not self._encoding:
            self._encoding = True
            run_task(
                encode_frame,
                self.owner.engine.pipeline,
                frame.image,
                on_result=self._encoded,
                on_error=self._encode_failed,
                parent=self,
            )

    def _on_status(self, text: str) -> None:
        if self._worker is not None:
            self.camera_label.setText(text)

    def _encoded(self, encodings: np.ndarray) -> None:
        self._encoding = False
        if self._worker is None or not len(encodings):
            return
        threshold = self.owner.threshold
        same, distance = verify(encodings, self._reference, threshold)
        self._nearest = distance if self._nearest is None else min(self._nearest, distance)
        if same:
            self.stop_verify()
            self.verify_label.setStyleSheet(OK_STYLE)
            self.verify_label.setText(
                f"Recognised {self.owner.person.name} (distance {distance:.2f}, threshold {threshold:.2f})."
            )

    def _encode_failed(self, error: Exception) -> None:
        self._encoding = False
        if self._worker is not None:
            self.stop_verify()
            self.verify_label.setStyleSheet(ERROR_STYLE)
            self.verify_label.setText(error_text(error))

    def _time_is_up(self) -> None:
        self.stop_verify()
        self.verify_label.setStyleSheet(ERROR_STYLE)
        name, threshold = self.owner.person.name, self.owner.threshold
        if self._nearest is None:
            self.verify_label.setText(
                f"No face was seen in {self.verify_seconds:g} s. Check the camera and the light, then try again."
            )
        else:
            self.verify_label.setText(
                f"Not recognised as {name}: the closest face was at distance {self._nearest:.2f}, above the "
                f"threshold {threshold:.2f}. Try again in better light, or add another photo of {name}."
            )
