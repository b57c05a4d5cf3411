"""The People page: everyone enrolled, with their face, status and validity, and what can be done to them,
including "Export…": everything stored about the selected person in a ZIP for them (subject access,
``faceguard.app.subject_access``)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QCloseEvent, QColor, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from faceguard.app.settings import KioskSettings
from faceguard.app.subject_access import export_subject
from faceguard.core.errors import FaceGuardError
from faceguard.gui.admin.common import PHOTO_FILTER, POLL_MS, MessageBar, status_text, validity_text
from faceguard.gui.admin.person_dialog import PersonDialog
from faceguard.gui.images import jpeg_to_pixmap
from faceguard.gui.pipeline_loader import EngineLoader
from faceguard.gui.tasks import error_text, run_task, wait_for_tasks
from faceguard.store.people import Person
from faceguard.store.repository import Store
from faceguard.store.templates import NewTemplate

if TYPE_CHECKING:  # torch loads in the background (EngineLoader), never on the GUI thread
    from faceguard.vision.pipeline import FacePipeline

THUMBNAIL_PX = 64
COLUMNS = ("Face", "Name", "Badge", "Group", "Status", "Validity", "Photos")
_STATUS_COLOURS = {"inactive": "#7a7a7a", "expired": "#b3261e", "not yet valid": "#9a6700"}

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


def encode_photo(pipeline: FacePipeline, path: Path) -> NewTemplate:
    """Read and check one photo and encode its face (runs in a background thread); a face below the
    recommended quality is encoded too, its template carrying the warning the admin must accept."""
    from faceguard.app.enrollment import template_from_file

    return template_from_file(pipeline, path, accept_low_quality=True)[0]


class PeopleModel(QAbstractTableModel):
    """People as table rows; each face thumbnail is read from the store when its row is first drawn."""

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.people: list[Person] = []
        self._thumbnails: dict[int, QPixmap] = {}

    def set_people(self, people: list[Person], changed: Iterable[int] | None = None) -> None:
        """Show ``people``; the cached faces of ``changed`` ids (None: of everyone) are read again."""
        self.beginResetModel()
        self.people = people
        if changed is None:
            self._thumbnails.clear()
        for person_id in changed or ():
            self._thumbnails.pop(person_id, None)
        self.endResetModel()

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.people)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        person, column = self.people[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole and column > 0:
            status = status_text(person)
            return [
                None,
                person.name,
                person.badge,
                person.group,
                status,
                validity_text(person),
                str(person.templates),
            ][column]
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return self.thumbnail(person)
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and column == 4
            and (colour := _STATUS_COLOURS.get(status_text(person)))
        ):
            return QBrush(QColor(colour))
        if role == Qt.ItemDataRole.ToolTipRole and person.notes:
            return person.notes
        return None

    def thumbnail(self, person: Person) -> QPixmap:
        """The face of the person's first photo, 64 px (an empty pixmap when they have none)."""
        if person.id not in self._thumbnails:
            pixmap = QPixmap()
            try:
                if face := self.store.face(person.id):
                    pixmap = jpeg_to_pixmap(face, THUMBNAIL_PX)
            except FaceGuardError:  # unreadable now: shown without a face
                pass
            self._thumbnails[person.id] = pixmap
        return self._thumbnails[person.id]


class PeoplePage(QWidget):
    """Search, enroll, edit, add photos to, (de)activate and erase people; follows changes made elsewhere."""

    changed = Signal()  # people were changed here or by another program

    def __init__(
        self, store: Store, engine: EngineLoader, settings: KioskSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.store, self.engine, self.settings = store, engine, settings
        self.model = PeopleModel(store, self)
        self._seen = store.last_change()

        self.search = QLineEdit(placeholderText="Search name, badge or group", clearButtonEnabled=True)
        self.show_inactive = QCheckBox("Show inactive")
        self.show_inactive.setChecked(True)
        self.enroll_button = QPushButton("Enroll person…")
        self.edit_button = QPushButton("Edit…")
        self.add_photo_button = QPushButton("Add photo…")
        self.active_button = QPushButton("Deactivate")
        self.delete_button = QPushButton("Delete…")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Everything stored about this person, in a ZIP file for them (subject access)")
        self.message = MessageBar()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setIconSize(QSize(THUMBNAIL_PX, THUMBNAIL_PX))
        self.table.verticalHeader().setDefaultSectionSize(THUMBNAIL_PX + 6)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)

        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.show_inactive)
        for button in (
            self.enroll_button,
            self.edit_button,
            self.add_photo_button,
            self.active_button,
            self.delete_button,
            self.export_button,
        ):
            bar.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)

        self.search.textChanged.connect(lambda: self.reload())
        self.show_inactive.toggled.connect(lambda: self.reload())
        self.enroll_button.clicked.connect(self.enroll)
        self.edit_button.clicked.connect(self.edit)
        self.add_photo_button.clicked.connect(self.add_photo)
        self.active_button.clicked.connect(self.toggle_active)
        self.delete_button.clicked.connect(self.delete)
        self.export_button.clicked.connect(self.export)
        self.table.doubleClicked.connect(self.edit)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.timer = QTimer(self, interval=POLL_MS, timeout=self.poll)
        self.timer.start()
        self.reload()

    # --- reading -------------------------------------------------------------------------------

    def reload(self, changed: Iterable[int] | None = ()) -> None:
        """Read the list again with the current search, keeping the selected person selected."""
        selected = self.selected_person()
        try:
            people = self.store.people(self.search.text().strip() or None, self.show_inactive.isChecked())
        except FaceGuardError as error:
            self.message.show_error(error_text(error))
            return
        self.model.set_people(people, changed)
        if selected is not None:
            self.select(selected.id)
        self._update_buttons()

    def poll(self) -> bool:
        """Reload when the change log shows edits by a kiosk or another admin; True if it did."""
        try:
            batch = self.store.changes_after(self._seen)
        except FaceGuardError as error:
            self.message.show_error(error_text(error))
            return False
        self._seen = batch.last_seq
        if batch.complete and not batch.person_ids:
            return False
        self.reload(batch.person_ids if batch.complete else None)
        self.changed.emit()
        return True

    def selected_person(self) -> Person | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.people[rows[0].row()] if rows else None

    def select(self, person_id: int) -> None:
        for row, person in enumerate(self.model.people):
            if person.id == person_id:
                self.table.selectRow(row)
                return

    # --- actions -------------------------------------------------------------------------------

    def enroll(self) -> None:
        """Open the enrollment wizard; the new person is listed and selected once enrolled."""
        from faceguard.gui.admin.wizard import EnrollmentWizard

        wizard = EnrollmentWizard(self.store, self.engine, self.settings, self)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.enrolled.connect(self._enrolled)
        wizard.open()

    def edit(self) -> None:
        person = self.selected_person()
        if person is None:
            return
        dialog = PersonDialog(self.store, person, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(lambda saved: self._written(saved, f"Saved {saved.name}."))
        dialog.open()

    def add_photo(self) -> None:
        """Ask for a photo of the selected person, check and encode it in the background, then store it."""
        person = self.selected_person()
        if person is None:
            return
        pipeline = self.engine.pipeline
        if pipeline is None:
            self.message.show_error(
                f"The face engine could not be loaded: {error_text(self.engine.error)}"
                if self.engine.error
                else "The face engine is still loading; try again in a moment."
            )
            return
        path, _ = QFileDialog.getOpenFileName(self, f"Add a photo of {person.name}", "", PHOTO_FILTER)
        if not path:
            return
        photo = Path(path)
        self.message.show_info(f"Checking {photo.name}…")
        run_task(
            encode_photo,
            pipeline,
            photo,
            on_result=partial(self._photo_encoded, person, photo),
            on_error=partial(self._photo_failed, person, photo),
            parent=self,
        )

    def toggle_active(self) -> None:
        person = self.selected_person()
        if person is None:
            return
        try:
            updated = self.store.set_active(person.id, not person.active)
        except FaceGuardError as error:
            self.message.show_error(error_text(error))
            return
        self._written(
            updated,
            f"{updated.name} is active again."
            if updated.active
            else f"{updated.name} is deactivated: the door no longer opens for them (photos kept).",
        )

    def delete(self) -> None:
        """Erase the selected person after a confirmation that says what goes and what the log keeps."""
        person = self.selected_person()
        if person is None:
            return
        photos = f"{person.templates} face photo{'s' if person.templates != 1 else ''}"
        question = (
            f"Erase {person.name}{f' (badge {person.badge})' if person.badge else ''}?\n\n"
            f"This deletes their details, their {photos} and the face snapshots of their access "
            f"events. The access log keeps their events under the pseudonym {person.pseudonym}, "
            "without their name.\n\nThis cannot be undone."
        )
        answer = QMessageBox.question(
            self,
            "Erase person",
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.store.remove_person(person.id)
        except FaceGuardError as error:
            self.message.show_error(error_text(error))
            return
        self.reload({person.id})
        self.changed.emit()
        self.message.show_info(f"Erased {person.name}. Their access events remain under {person.pseudonym}.")

    def export(self) -> None:
        """Write everything stored about the selected person to a new ZIP file the admin names."""
        person = self.selected_person()
        if person is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self,
            f"Export everything stored about {person.name}",
            f"{person.name} - {self.settings.site_name}.zip",
            "ZIP files (*.zip)",
            options=QFileDialog.Option.DontConfirmOverwrite,  # an export never overwrites: it says so
        )
        if not path:
            return
        try:
            done = export_subject(self.store, person.id, Path(path), self.settings.site_name)
        except FaceGuardError as error:
            self.message.show_error(error_text(error))
            return
        self.message.show_info(
            f"Exported {person.name} to {done.path}: {done.templates} face photos, {done.events} access events "
            f"({done.snapshots} with a snapshot). It holds their face: hand it to them securely, then delete it."
        )

    # --- results -------------------------------------------------------------------------------

    def _enrolled(self, person_id: int) -> None:
        self.reload({person_id})
        self.select(person_id)
        self.changed.emit()

    def _written(self, person: Person, text: str) -> None:
        self.reload({person.id})
        self.changed.emit()
        self.message.show_info(text)

    def _photo_encoded(self, person: Person, photo: Path, template: NewTemplate) -> None:
        if template.accepted_below is not None and not self._accept_low_quality(person, photo, template):
            self.message.show_info(f"{photo.name} was not added to {person.name}.")
            return
        try:
            self.store.add_template(person.id, template)
            updated = self.store.person(person.id)
        except FaceGuardError as error:
            self.message.show_error(f"{photo.name} was not added to {person.name}: {error_text(error)}")
            return
        self._written(updated, f"Added {photo.name} to {updated.name} ({updated.templates} photos).")

    def _accept_low_quality(self, person: Person, photo: Path, template: NewTemplate) -> bool:
        """Ask whether to add a photo below the recommended quality anyway (the answer defaults to No)."""
        question = (
            f"{photo.name} is below the recommended quality:\n\n{template.accepted_below}\n\n"
            f"Add it to {person.name} anyway? Recognition may be less reliable; the warning is "
            "recorded with the photo."
        )
        answer = QMessageBox.question(
            self,
            "Photo below the recommended quality",
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _photo_failed(self, person: Person, photo: Path, error: Exception) -> None:
        self.message.show_error(f"{photo.name} was not added to {person.name}: {error_text(error)}")

    def _update_buttons(self) -> None:
        person = self.selected_person()
        for button in (
            self.edit_button,
            self.add_photo_button,
            self.active_button,
            self.delete_button,
            self.export_button,
        ):
            button.setEnabled(person is not None)
        self.active_button.setText("Activate" if person is not None and not person.active else "Deactivate")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.timer.stop()
        wait_for_tasks(self)
        super().closeEvent(event)
