"""The enrollment wizard's last page: the person is stored; "Verify now" asks the camera to recognise them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWizardPage

from faceguard.app.verify_now import NotRecognised, Recognised, VerifyNow, read_frame
from faceguard.core.errors import FaceGuardError
from faceguard.gui.admin.capture import show_frame
from faceguard.gui.admin.common import ERROR_STYLE, OK_STYLE
from faceguard.gui.camera_worker import CameraWorker
from faceguard.gui.images import jpeg_to_pixmap
from faceguard.gui.tasks import error_text, run_task
from faceguard.vision.camera import Frame
from faceguard.vision.faces import CheckedFace, RefusedFace

if TYPE_CHECKING:
    from faceguard.gui.admin.wizard import EnrollmentWizard


class DonePage(QWizardPage):
    """Confirms the enrollment; "Verify now" checks that the camera recognises the person as the door
    would (``faceguard.app.verify_now``): this page only drives the camera and shows the result."""

    def __init__(self, wizard: EnrollmentWizard, verify_seconds: float) -> None:
        super().__init__()
        self.owner = wizard
        self.verify_seconds = verify_seconds
        self._worker: CameraWorker | None = None
        self._verifier: VerifyNow | None = None
        self._reading = False  # one frame at a time is read; the others only update the preview
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
        person, template = self.owner.person, self.owner.template
        assert person is not None and template is not None  # this page follows the enrollment
        self.result_label.setText(f"Enrolled {person.name} (#{person.id})")
        self.face_label.setPixmap(jpeg_to_pixmap(template.thumbnail.jpeg, 120))

    def is_verifying(self) -> bool:
        return self._worker is not None

    def start_verify(self) -> None:
        """Watch the camera for up to ``verify_seconds``, reading one frame at a time."""
        owner, person, pipeline = self.owner, self.owner.person, self.owner.engine.pipeline
        assert person is not None and pipeline is not None  # enrolled, so the engine had loaded
        try:  # what was stored, read back: the kiosk will compare with exactly this
            self._verifier = VerifyNow.start(owner.store, person, pipeline, owner.settings)
        except FaceGuardError as error:
            self.verify_label.setStyleSheet(ERROR_STYLE)
            self.verify_label.setText(str(error))
            return
        self.verify_button.setEnabled(False)
        self.verify_label.setStyleSheet("")
        self.verify_label.setText(f"Looking for {person.name}…")
        self.camera_label.clear()
        self.preview.setText("Starting the camera…")
        self.preview.show()
        self._worker = CameraWorker(owner.settings.camera, self)
        self._worker.frame.connect(self._on_frame)
        self._worker.status.connect(self._on_status)
        self._worker.start()
        self._deadline.start(round(self.verify_seconds * 1000))

    def stop_verify(self) -> None:
        """Stop the camera (blocks until its thread ended); frames still being read are ignored."""
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
        verifier = self._verifier
        if not self._reading and verifier is not None:
            self._reading = True
            run_task(
                read_frame,
                self.owner.engine.pipeline,
                frame.image,
                on_result=lambda faces: self._read(verifier, frame, faces),
                on_error=self._read_failed,
                parent=self,
            )

    def _on_status(self, text: str) -> None:
        if self._worker is not None:
            self.camera_label.setText(text)

    def _read(self, verifier: VerifyNow, frame: Frame, faces: list[CheckedFace | RefusedFace]) -> None:
        self._reading = False
        if self._worker is None or verifier is not self._verifier:
            return
        result = verifier.observe(frame, faces)
        if result is not None:
            self._show(result)

    def _read_failed(self, error: Exception) -> None:
        self._reading = False
        if self._worker is not None:
            self.stop_verify()
            self.verify_label.setStyleSheet(ERROR_STYLE)
            self.verify_label.setText(error_text(error))

    def _time_is_up(self) -> None:
        if self._verifier is not None:
            self._show(self._verifier.not_recognised(self.verify_seconds))

    def _show(self, result: Recognised | NotRecognised) -> None:
        self.stop_verify()
        self.verify_label.setStyleSheet(OK_STYLE if isinstance(result, Recognised) else ERROR_STYLE)
        self.verify_label.setText(str(result))
