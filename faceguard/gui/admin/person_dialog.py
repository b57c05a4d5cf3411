"""Edit a person's details; the dialog stays open with the reason when the store refuses a change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QDate, QDateTime, QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from faceguard.app.display import consent_text
from faceguard.core.errors import FaceGuardError
from faceguard.gui.tasks import error_text
from faceguard.store.people import Person
from faceguard.store.repository import Store


class LimitEdit(QWidget):
    """A date and time, or "no limit" (None), in local time."""

    def __init__(self, moment: datetime | None, default: QDateTime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QDateTimeEdit(default if moment is None else _to_qt(moment))
        self.edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.edit.setCalendarPopup(True)
        self.no_limit = QCheckBox("No limit")
        self.no_limit.toggled.connect(lambda checked: self.edit.setEnabled(not checked))
        self.no_limit.setChecked(moment is None)
        self.edit.setEnabled(moment is not None)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.no_limit)

    def value(self) -> datetime | None:
        if self.no_limit.isChecked():
            return None
        return datetime.fromtimestamp(self.edit.dateTime().toMSecsSinceEpoch() / 1000, UTC)


class GroupBox(QComboBox):
    """A person's access group: one of the groups defined, or none; free text while none is defined (a
    group kept from before, or deleted since, stays offered so that saving keeps it)."""

    def __init__(self, groups: list[str], current: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(not groups)
        if not groups:
            self.setEditText(current or "")
            self.setToolTip("No access group is defined yet (Doors & groups page): any text is kept.")
            return
        self.addItem("No group", None)
        for name in groups:
            self.addItem(name, name)
        if current is not None and current not in groups:
            self.addItem(f"{current} (not a defined group: refused at every door)", current)
        self.setCurrentIndex(self.findData(current) if current is not None else 0)

    def value(self) -> str | None:
        if self.isEditable():
            return self.currentText().strip() or None
        group: str | None = self.currentData()
        return group


class PersonDialog(QDialog):
    """Name, badge, group, active, validity and notes of one person; ``saved(Person)`` after a change."""

    saved = Signal(object)

    def __init__(self, store: Store, person: Person, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.person = store, person
        self.setWindowTitle(f"Edit {person.name}")
        self.name = QLineEdit(person.name)
        self.badge = QLineEdit(person.badge or "")
        self.group = GroupBox([group.name for group in store.access_groups()], person.group)
        self.active = QCheckBox("Active: the door may open for this person")
        self.active.setChecked(person.active)
        today = QDate.currentDate()
        self.valid_from = LimitEdit(person.valid_from, QDateTime(today, QTime(0, 0)))
        self.valid_until = LimitEdit(person.valid_until, QDateTime(today.addMonths(1), QTime(23, 59, 59, 999)))
        self.notes = QPlainTextEdit(person.notes or "")
        self.notes.setFixedHeight(72)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Badge", self.badge)
        form.addRow("Group", self.group)
        form.addRow("", self.active)
        form.addRow("Valid from", self.valid_from)
        form.addRow("Valid until", self.valid_until)
        form.addRow("Notes", self.notes)
        form.addRow("Consent", QLabel(consent_text(person)))
        form.addRow("Photos", QLabel(str(person.templates)))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def accept(self) -> None:
        """Save the changed fields; on a refusal show why and keep the dialog and its input."""
        try:
            changes = self.changes()
            person = self.store.update_person(self.person.id, **changes) if changes else self.person
        except (ValueError, FaceGuardError) as error:
            self.show_error(str(error) if isinstance(error, ValueError) else error_text(error))
            return
        self.person = person
        self.saved.emit(person)
        super().accept()

    def changes(self) -> dict[str, Any]:
        """The fields that differ from the stored person (raises ValueError for an impossible entry)."""
        name = self.name.text().strip()
        if not name:
            raise ValueError("Enter the person's name.")
        valid_from, valid_until = self.valid_from.value(), self.valid_until.value()
        if valid_from is not None and valid_until is not None and valid_until < valid_from:
            raise ValueError("“Valid until” is before “Valid from”.")
        values = {
            "name": name,
            "badge": self.badge.text().strip() or None,
            "group": self.group.value(),
            "active": self.active.isChecked(),
            "valid_from": valid_from,
            "valid_until": valid_until,
            "notes": self.notes.toPlainText().strip() or None,
        }
        return {field: value for field, value in values.items() if value != getattr(self.person, field)}

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()


def _to_qt(moment: datetime) -> QDateTime:
    return QDateTime.fromMSecsSinceEpoch(round(moment.timestamp() * 1000))
