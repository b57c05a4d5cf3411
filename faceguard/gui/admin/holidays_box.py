"""The site's holidays on the Doors & groups page: a table, and a form to add, change or delete one.

A holiday closes every door all day, or opens them only in its hours, once or every year on its date
(``faceguard.access.schedule``); groups that ignore holidays are not affected."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from faceguard.access.schedule import parse_windows
from faceguard.core.errors import FaceGuardError, InvalidInputError
from faceguard.gui.admin.common import ERROR_STYLE, MessageBar
from faceguard.gui.tasks import error_text
from faceguard.store.door_rules_table import HolidayRecord
from faceguard.store.repository import Store

COLUMNS = ("Name", "Date", "Repeats", "Doors")


def holiday_cells(holiday: HolidayRecord) -> list[str]:
    """The table's cells of a holiday: name, date, once or every year, closed or its hours."""
    day = f"{holiday.day:%m-%d}" if holiday.yearly else holiday.day.isoformat()
    hours = "closed all day" if holiday.hours is None else f"open only {holiday.hours.replace('-', '–')}"
    return [holiday.name, day, "every year" if holiday.yearly else "once", hours]


class HolidaysBox(QGroupBox):
    """The holidays, newest edits shown at once; ``changed`` after each write."""

    changed = Signal()

    def __init__(self, store: Store, message: MessageBar, parent: QWidget | None = None) -> None:
        super().__init__("Holidays", parent)
        self.store, self.message = store, message
        self.records: list[HolidayRecord] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.name = QLineEdit(placeholderText="e.g. Christmas Day")
        self.day = QDateEdit(QDate.currentDate(), calendarPopup=True, displayFormat="yyyy-MM-dd")
        self.yearly = QCheckBox("Every year on this date")
        self.closed = QCheckBox("Closed all day")
        self.closed.setChecked(True)
        self.hours = QLineEdit(placeholderText="open only in these hours, e.g. 09:00-12:00")
        self.hours.setEnabled(False)
        self.hours_problem = QLabel(wordWrap=True, styleSheet=ERROR_STYLE)
        self.add_button = QPushButton("Add holiday")
        self.update_button = QPushButton("Save changes")
        self.delete_button = QPushButton("Delete holiday")

        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Date", self.day)
        form.addRow("", self.yearly)
        form.addRow("", self.closed)
        form.addRow("Hours", self.hours)
        form.addRow("", self.hours_problem)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.update_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addLayout(buttons)

        self.closed.toggled.connect(self._check)
        self.hours.textChanged.connect(self._check)
        self.name.textChanged.connect(self._check)
        self.table.itemSelectionChanged.connect(self._selected)
        self.add_button.clicked.connect(self.add)
        self.update_button.clicked.connect(self.update_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.reload()

    def reload(self) -> None:
        """Read the holidays again, keeping the selected one selected."""
        selected = self.selected()
        try:
            self.records = self.store.holidays()
        except FaceGuardError as error:
            self.message.show_error(error_text(error))
            return
        self.table.setRowCount(len(self.records))
        for row, holiday in enumerate(self.records):
            for column, text in enumerate(holiday_cells(holiday)):
                self.table.setItem(row, column, QTableWidgetItem(text))
        found = next((row for row, h in enumerate(self.records) if selected and h.id == selected.id), None)
        if found is None:
            self.table.clearSelection()
        else:
            self.table.selectRow(found)
        self._check()

    def selected(self) -> HolidayRecord | None:
        rows = self.table.selectionModel().selectedRows()
        return self.records[rows[0].row()] if rows else None

    def add(self) -> None:
        self._write(lambda: self.store.add_holiday(*self._values()), "Added")

    def update_selected(self) -> None:
        holiday = self.selected()
        if holiday is not None:
            self._write(lambda: self.store.update_holiday(holiday.id, *self._values()), "Saved")

    def delete_selected(self) -> None:
        holiday = self.selected()
        if holiday is not None:
            self.table.clearSelection()
            self._write(lambda: self.store.delete_holiday(holiday.id), "Deleted")

    def _write(self, write: Callable[[], HolidayRecord], done: str) -> None:
        try:
            holiday = write()
        except FaceGuardError as error:
            self.message.show_error(error_text(error))
            return
        self.message.show_info(f"{done} holiday '{holiday.name}'. Kiosks apply it within a few seconds.")
        self.reload()
        self.changed.emit()

    def _values(self) -> tuple[str, date, bool, str | None]:
        hours = None if self.closed.isChecked() else self.hours.text()
        return self.name.text(), self.day.date().toPython(), self.yearly.isChecked(), hours

    def _selected(self) -> None:
        """Show the selected holiday in the form, to change it."""
        holiday = self.selected()
        if holiday is not None:
            self.name.setText(holiday.name)
            self.day.setDate(QDate(holiday.day.year, holiday.day.month, holiday.day.day))
            self.yearly.setChecked(holiday.yearly)
            self.closed.setChecked(holiday.hours is None)
            self.hours.setText(holiday.hours or "")
        self._check()

    def _check(self) -> None:
        """Check the hours as they are typed; Add and Save are enabled only for a usable holiday."""
        self.hours.setEnabled(not self.closed.isChecked())
        problem = "" if self.name.text().strip() else "Enter the holiday's name."
        if not self.closed.isChecked():
            try:
                parse_windows(self.hours.text())
            except InvalidInputError as error:
                problem = str(error)
        self.hours_problem.setText(problem)
        self.add_button.setEnabled(not problem)
        self.update_button.setEnabled(not problem and self.selected() is not None)
        self.delete_button.setEnabled(self.selected() is not None)
