"""The Doors & groups page: access groups and the doors each may open on a schedule, the site's
holidays and its time zone, as every kiosk applies them (``faceguard.access.door_rules``).

Each door's schedule is checked as it is typed: the parser's message shows under it and Save stays
disabled while one is wrong; a valid one shows how it reads ("Mon–Fri 07:00–19:00"). With no group at
all, everyone enrolled may open every door."""

from __future__ import annotations

from zoneinfo import available_timezones

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from faceguard.access.schedule import Schedule
from faceguard.app.settings import KioskSettings, save_time_zone, site_time_zone
from faceguard.core.errors import FaceGuardError, InvalidInputError
from faceguard.gui.admin.common import ERROR_STYLE, MessageBar
from faceguard.gui.admin.holidays_box import HolidaysBox
from faceguard.gui.tasks import error_text
from faceguard.store.door_rules_table import GroupRecord
from faceguard.store.repository import Store

SCHEDULE_HINT = "e.g. mon-fri 07:00-19:00; sat 08:00-12:00, or 24/7, or never"
APPLIED = "Kiosks apply it within a few seconds."


class ScheduleRow(QWidget):
    """One door of a group: its name, its schedule (checked as it is typed) and how that reads."""

    changed = Signal()
    remove_requested = Signal(object)

    def __init__(self, door: str, text: str, doors: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.door = QComboBox(editable=True)
        self.door.addItems(doors)
        self.door.setCurrentText(door)
        self.schedule = QLineEdit(text, placeholderText=SCHEDULE_HINT)
        self.reading = QLabel(wordWrap=True)
        self.remove = QPushButton("Remove")
        line = QHBoxLayout()
        line.addWidget(self.door, 1)
        line.addWidget(self.schedule, 2)
        line.addWidget(self.remove)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.addLayout(line)
        layout.addWidget(self.reading)
        self.door.currentTextChanged.connect(self._check)
        self.schedule.textChanged.connect(self._check)
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self))
        self.problem: str | None = None
        self._check()

    @property
    def door_name(self) -> str:
        return self.door.currentText().strip()

    def _check(self) -> None:
        try:
            reading, self.problem = Schedule.parse(self.schedule.text()).describe(), None
        except InvalidInputError as error:
            reading = self.problem = str(error)
        if not self.door_name:
            self.problem = reading = "Name the door (as its kiosk's settings name it)."
        self.reading.setText(reading)
        self.reading.setStyleSheet(ERROR_STYLE if self.problem else "color: #5a5a5a;")
        self.changed.emit()


class DoorsPage(QWidget):
    """Groups on the left, the selected group's doors and schedules on the right; holidays and the time
    zone below. ``changed`` after each write (people may have moved with a renamed group)."""

    changed = Signal()

    def __init__(self, store: Store, settings: KioskSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.settings = store, settings
        self.records: list[GroupRecord] = []
        self.rows: list[ScheduleRow] = []
        self.known_doors = [settings.door]
        self._seen: int | None = None
        self.message = MessageBar()

        self.groups = QListWidget()
        self.new_group = QLineEdit(placeholderText="New group's name, e.g. Staff")
        self.add_group_button = QPushButton("Add group")
        self.delete_group_button = QPushButton("Delete group…")
        self.name = QLineEdit()
        self.observe_holidays = QCheckBox("Observes the site's holidays (untick for a team on duty 24/7)")
        self.rows_layout = QVBoxLayout()
        self.add_door_button = QPushButton("Add door")
        self.save_button = QPushButton("Save group")
        self.problem = QLabel(wordWrap=True, styleSheet=ERROR_STYLE)
        self.holidays = HolidaysBox(store, self.message)
        self.time_zone = QComboBox(editable=True)
        self.time_zone.addItems(sorted(available_timezones()))
        self.save_zone_button = QPushButton("Save time zone")
        self._build_layout()

        self.groups.currentItemChanged.connect(self._show_selected)
        self.new_group.textChanged.connect(lambda text: self.add_group_button.setEnabled(bool(text.strip())))
        self.new_group.returnPressed.connect(self.add_group)
        self.add_group_button.clicked.connect(self.add_group)
        self.delete_group_button.clicked.connect(self.delete_group)
        self.add_door_button.clicked.connect(self.add_door)
        self.name.textChanged.connect(self._check)
        self.save_button.clicked.connect(self.save_group)
        self.save_zone_button.clicked.connect(self.save_zone)
        self.holidays.changed.connect(self._written)
        self.add_group_button.setEnabled(False)
        self.reload()

    def _build_layout(self) -> None:
        left = QVBoxLayout()
        left.addWidget(QLabel("Access groups: a person is in one, chosen on the People page"))
        left.addWidget(self.groups, 1)
        left.addWidget(self.new_group)
        adding = QHBoxLayout()
        adding.addWidget(self.add_group_button)
        adding.addWidget(self.delete_group_button)
        left.addLayout(adding)
        editor = QGroupBox("Selected group")
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("", self.observe_holidays)
        doors = QVBoxLayout(editor)
        doors.addLayout(form)
        doors.addWidget(QLabel(f"Doors it may open, each on a schedule ({SCHEDULE_HINT}):"))
        doors.addLayout(self.rows_layout)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_door_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        doors.addLayout(buttons)
        doors.addWidget(self.problem)
        doors.addStretch(1)
        top = QHBoxLayout()
        top.addLayout(left, 1)
        top.addWidget(editor, 2)
        zone = QHBoxLayout()
        zone.addWidget(QLabel("Site time zone (schedules and holidays follow its wall clock)"))
        zone.addWidget(self.time_zone, 1)
        zone.addWidget(self.save_zone_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(top, 3)
        layout.addWidget(self.holidays, 2)
        layout.addLayout(zone)

    # --- reading -------------------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the groups, the holidays and the time zone again, keeping the selected group selected."""
        selected = self.selected()
        try:
            self._seen = self.store.last_admin_action()
            self.records = self.store.access_groups()
            self.known_doors = sorted({self.settings.door, *self.store.event_doors()} | self._group_doors())
            zone = site_time_zone(self.store)
        except FaceGuardError as error:
            self.message.show_error(error_text(error))
            return
        self.groups.blockSignals(True)
        self.groups.clear()
        for record in self.records:
            item = QListWidgetItem(f"{record.name} ({len(record.doors)} door{'s' if len(record.doors) != 1 else ''})")
            item.setData(Qt.ItemDataRole.UserRole, record.id)
            self.groups.addItem(item)
        self.groups.blockSignals(False)
        row = next((row for row, r in enumerate(self.records) if selected and r.id == selected.id), 0)
        self.groups.setCurrentRow(row if self.records else -1)
        self._show_selected()
        self.holidays.reload()
        self.time_zone.setCurrentText(zone)

    def selected(self) -> GroupRecord | None:
        item = self.groups.currentItem()
        group_id = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return next((record for record in self.records if record.id == group_id), None)

    def showEvent(self, event: QShowEvent) -> None:
        """Opened again: read what another admin or program changed meanwhile."""
        super().showEvent(event)
        try:
            if self.store.last_admin_action() != self._seen:
                self.reload()
        except FaceGuardError as error:
            self.message.show_error(error_text(error))

    # --- writing -------------------------------------------------------------------------------------

    def add_group(self) -> None:
        """A new group without doors yet; the first one turns the door rules on."""
        first = not self.records
        try:
            record = self.store.add_access_group(self.new_group.text())
        except FaceGuardError as error:
            self.message.show_error(error_text(error))
            return
        self.new_group.clear()
        text = f"Added group '{record.name}': add the doors it may open, then Save."
        if first:
            text += " From now on only people in a group may open a door, and only its group's doors."
        self._written(text)
        self.groups.setCurrentRow(next(row for row, r in enumerate(self.records) if r.id == record.id))

    def add_door(self) -> None:
        """A row for another door (this kiosk's door first), open at any time until its schedule is typed."""
        listed = {row.door_name for row in self.rows}
        self._add_row(next((door for door in self.known_doors if door not in listed), ""), "24/7")

    def save_group(self) -> None:
        record = self.selected()
        if record is None or self._problem():
            return
        doors = {row.door_name: row.schedule.text() for row in self.rows}
        try:
            saved = self.store.update_access_group(
                record.id, name=self.name.text(), observe_holidays=self.observe_holidays.isChecked(), doors=doors
            )
        except FaceGuardError as error:
            self.message.show_error(error_text(error))
            return
        self._written(f"Saved group '{saved.name}'.")

    def delete_group(self) -> None:
        record = self.selected()
        if record is None:
            return
        try:
            members = self.store.group_size(record.name)
        except FaceGuardError as error:
            self.message.show_error(error_text(error))
            return
        people = "1 person is" if members == 1 else f"{members} people are"
        answer = QMessageBox.question(
            self,
            "Delete access group",
            f"Delete the group '{record.name}'? {people} in it: they will be refused at every door until "
            "they are given another group on the People page.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.store.delete_access_group(record.id)
        except FaceGuardError as error:
            self.message.show_error(error_text(error))
            return
        self._written(f"Deleted group '{record.name}'.")

    def save_zone(self) -> None:
        try:
            zone = save_time_zone(self.store, self.time_zone.currentText())
        except FaceGuardError as error:
            self.message.show_error(error_text(error))
            return
        self._written(f"The site's time zone is {zone}.")

    def _written(self, text: str = "") -> None:
        if text:
            self.message.show_info(f"{text} {APPLIED}")
        self.reload()
        self.changed.emit()

    # --- the group editor ----------------------------------------------------------------------------

    def _show_selected(self) -> None:
        record = self.selected()
        for row in self.rows:
            row.deleteLater()
        self.rows = []
        self.name.setText(record.name if record is not None else "")
        self.observe_holidays.setChecked(record.observe_holidays if record is not None else True)
        for widget in (self.name, self.observe_holidays, self.add_door_button, self.delete_group_button):
            widget.setEnabled(record is not None)
        if record is not None:
            for door, text in record.doors.items():
                self._add_row(door, text)
        self._check()

    def _add_row(self, door: str, text: str) -> None:
        row = ScheduleRow(door, text, self.known_doors)
        row.changed.connect(self._check)
        row.remove_requested.connect(self._remove_row)
        self.rows.append(row)
        self.rows_layout.addWidget(row)
        self._check()

    def _remove_row(self, row: ScheduleRow) -> None:
        self.rows.remove(row)
        row.deleteLater()
        self._check()

    def _problem(self) -> str | None:
        """Why the selected group cannot be saved as entered (None: it can)."""
        if not self.name.text().strip():
            return "Enter the group's name."
        for row in self.rows:
            if row.problem:
                return f"Door '{row.door_name}': {row.problem}" if row.door_name else row.problem
        names = [row.door_name for row in self.rows]
        twice = next((name for name in names if names.count(name) > 1), None)
        return f"Door '{twice}' is listed twice: give it one schedule." if twice else None

    def _check(self) -> None:
        problem = self._problem() if self.selected() is not None else None
        self.problem.setText(problem or "")
        self.save_button.setEnabled(self.selected() is not None and problem is None)

    def _group_doors(self) -> set[str]:
        return {door for record in self.records for door in record.doors}
