"""The enrollment wizard: one photo (a file or the camera) → a checked face → details and consent → stored.

Nothing is written to the database before the Details page's "Enroll" button: the person, their
template and the consent time go in one transaction, so cancelling at any step leaves no trace.
The neural networks run in background tasks; the Store is used only in the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
    QWizard,
    QWizardPage,
)

from faceguard.app.enrollment import Photo
from faceguard.app.settings import KioskSettings
from faceguard.core.clock import day_end, day_start
from faceguard.core.errors import ConflictError, FaceGuardError
from faceguard.gui.admin.common import ERROR_STYLE
from faceguard.gui.admin.wizard_done import DonePage
from faceguard.gui.admin.wizard_photo import CheckPage, SourcePage
from faceguard.gui.pipeline_loader import EngineLoader
from faceguard.gui.tasks import error_text, wait_for_tasks
from faceguard.store.people import Person
from faceguard.store.repository import Store
from faceguard.store.templates import NewTemplate
from faceguard.store.timestamps import now

SOURCE, CHECK, DETAILS, DONE = range(4)
#: How long "Verify now" watches the camera before saying the person was not recognised.
VERIFY_SECONDS = 10.0


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

    def enroll(self, name: str, **details: object) -> Person:
        """Store the person, the checked template and the consent time in one transaction."""
        assert self.template is not None  # the Check page prepared it
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
        edit = QDateEdit(QDate.currentDate())
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
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
