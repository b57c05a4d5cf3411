"""The Access log page: the kiosk's decisions, filtered by date, person, door and decision, with face snapshots.

Beside the CLI's columns the table shows each decision's liveness outcome; the selected event's face is
shown with its liveness checks and what the door output did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QCloseEvent, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from faceguard.access.policy import DecisionWord
from faceguard.app.display import EVENT_TABLE_COLUMNS, event_cells, liveness_text
from faceguard.core.clock import day_end, day_start
from faceguard.core.errors import FaceGuardError
from faceguard.gui.admin.common import POLL_MS, MessageBar
from faceguard.gui.images import jpeg_to_pixmap
from faceguard.gui.tasks import error_text, run_task, wait_for_tasks
from faceguard.store.event_export import save_events_csv
from faceguard.store.events import DECISIONS, AccessEvent
from faceguard.store.repository import Store

#: The CLI's columns with the liveness outcome before the message.
_LIVENESS_AT = EVENT_TABLE_COLUMNS.index("message")
COLUMNS = tuple(
    column.capitalize()
    for column in (*EVENT_TABLE_COLUMNS[:_LIVENESS_AT], "liveness", *EVENT_TABLE_COLUMNS[_LIVENESS_AT:])
)
#: The table shows at most this many of the newest matching events; an export writes them all.
ROW_LIMIT = 5000
SNAPSHOT_PX = 240
DEFAULT_DAYS = 7
DECISION_COLOURS: dict[str, str] = {
    DecisionWord.GRANTED: "#d7f0dc",
    DecisionWord.DENIED: "#f8d7d4",
    DecisionWord.UNKNOWN: "#fdebc8",
    DecisionWord.REJECTED_QUALITY: "#e4e4e4",
}


class AccessLogPage(QWidget):
    """Filters, the matching events newest first, the selected event's face and a CSV export."""

    changed = Signal()  # new events arrived or people changed

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.events: list[AccessEvent] = []
        self._seen: tuple[int, int | None] | None = None

        self.today = today = QDate.currentDate()
        self.since = QDateEdit(today.addDays(-DEFAULT_DAYS), calendarPopup=True, displayFormat="yyyy-MM-dd")
        self.until = QDateEdit(today, calendarPopup=True, displayFormat="yyyy-MM-dd")
        self.person = QComboBox()
        self.door = QComboBox()
        self.door.addItem("All doors", None)
        self.decision = QComboBox()
        self.decision.addItem("All decisions", None)
        for decision in DECISIONS:
            self.decision.addItem(decision, decision)
        self.export_button = QPushButton("Export CSV…")
        self.summary = QLabel()
        self.message = MessageBar()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.snapshot = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.snapshot.setFixedSize(SNAPSHOT_PX + 8, SNAPSHOT_PX + 8)
        self.snapshot.setStyleSheet("border: 1px solid #c8c8c8; color: #7a7a7a;")
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setFixedWidth(SNAPSHOT_PX + 8)

        filters = QHBoxLayout()
        for label, widget in (
            ("From", self.since),
            ("Until", self.until),
            ("Person", self.person),
            ("Door", self.door),
            ("Decision", self.decision),
        ):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget)
        filters.addStretch(1)
        filters.addWidget(self.summary)
        filters.addWidget(self.export_button)
        body = QHBoxLayout()
        body.addWidget(self.table, 1)
        selected = QVBoxLayout()
        selected.addWidget(self.snapshot)
        selected.addWidget(self.details)
        selected.addStretch(1)
        body.addLayout(selected)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.message)
        layout.addLayout(body, 1)

        for signal in (
            self.since.dateChanged,
            self.until.dateChanged,
            self.person.currentIndexChanged,
            self.door.currentIndexChanged,
            self.decision.currentIndexChanged,
        ):
            signal.connect(self.reload)
        self.table.itemSelectionChanged.connect(self.show_snapshot)
        self.export_button.clicked.connect(self.export_csv)
        self.timer = QTimer(self, interval=POLL_MS, timeout=self.poll)
        self.timer.start()
        self.poll()

    def filters(self) -> dict[str, Any]:
        """The store.events arguments of the current filters (dates are whole local days)."""
        return {
            "since": day_start(self.since.date().toPython()),
            "until": day_end(self.until.date().toPython()),
            "person_id": self.person.currentData(),
            "decision": self.decision.currentData(),
            "door": self.door.currentData(),
        }

    def reload(self) -> None:
        """Read the filtered events again, keeping the selected event selected."""
        selected, filters = self.selected_event(), self.filters()
        if filters["since"] > filters["until"]:
            self.message.show_error("The “From” date is after the “Until” date.")
            events = []
        else:
            try:
                events = self.store.events(**filters, limit=ROW_LIMIT + 1)
            except FaceGuardError as error:
                self.message.show_error(error_text(error))
                return
            if self.message.is_error:
                self.message.hide()
        self.events = events[:ROW_LIMIT]
        self.summary.setText(
            f"newest {ROW_LIMIT} events shown"
            if len(events) > ROW_LIMIT
            else f"{len(events)} event{'s' if len(events) != 1 else ''}"
        )
        self.table.setRowCount(len(self.events))
        for row, event in enumerate(self.events):
            cells = event_cells(event)
            cells.insert(_LIVENESS_AT, liveness_text(event))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 2:
                    item.setBackground(QBrush(QColor(DECISION_COLOURS[event.decision])))
                elif column == _LIVENESS_AT and event.liveness_passed is False:
                    item.setBackground(QBrush(QColor(DECISION_COLOURS[DecisionWord.DENIED])))
                self.table.setItem(row, column, item)
        self.select(selected.id if selected is not None else None)

    def poll(self) -> bool:
        """Reload when a kiosk logged events or people changed (names, erasures); True if it did."""
        self._follow_today()
        try:
            newest = self.store.events(limit=1)
            seen = (self.store.last_change(), newest[0].id if newest else None)
            if seen == self._seen:
                return False
            if self._seen is None or seen[0] != self._seen[0]:
                self._fill_people()
            if self._seen is None or seen[1] != self._seen[1]:
                self._fill_doors()
        except FaceGuardError as error:
            self.message.show_error(error_text(error))
            return False
        self._seen = seen
        self.reload()
        self.changed.emit()
        return True

    def _follow_today(self) -> None:
        """Past midnight, a range that ended today ends on the new day, so new events keep appearing."""
        today = QDate.currentDate()
        if today != self.today:
            if self.until.date() == self.today:
                self.until.setDate(today)
            self.today = today

    def selected_event(self) -> AccessEvent | None:
        rows = self.table.selectionModel().selectedRows()
        return self.events[rows[0].row()] if rows else None

    def select(self, event_id: int | None) -> None:
        row = next((row for row, event in enumerate(self.events) if event.id == event_id), None)
        if row is None:
            self.table.clearSelection()
            self.show_snapshot()
        else:
            self.table.selectRow(row)

    def show_snapshot(self) -> None:
        """The selected event's face, large, or why there is none; below it the liveness checks and the door."""
        event = self.selected_event()
        self.snapshot.clear()
        self.details.setText(event_details(event) if event is not None else "")
        if event is None:
            self.snapshot.setText("Select an event\nto see its face")
            return
        try:
            jpeg = self.store.event_snapshot(event.id) if event.has_snapshot else None
        except FaceGuardError as error:
            self.snapshot.setText(error_text(error))
            return
        if jpeg is None:
            self.snapshot.setText("No snapshot")
        else:
            self.snapshot.setPixmap(jpeg_to_pixmap(jpeg, SNAPSHOT_PX))

    def export_csv(self) -> None:
        """Write every event the filters match (not only the rows shown) as ``faceguard events --csv`` does."""
        filters = self.filters()
        default = f"faceguard-events-{filters['since']:%Y-%m-%d}-to-{filters['until']:%Y-%m-%d}.csv"
        path, _ = QFileDialog.getSaveFileName(self, "Export the access log", default, "CSV files (*.csv)")
        if not path:
            return
        try:
            events = self.store.events(**filters)
        except FaceGuardError as error:
            self.message.show_error(error_text(error))
            return
        self.export_button.setEnabled(False)
        run_task(
            save_events_csv,
            events[::-1],
            Path(path),
            on_result=lambda count: self._exported(count, path),
            on_error=self._export_failed,
            parent=self,
        )

    def _exported(self, count: int, path: str) -> None:
        self.export_button.setEnabled(True)
        self.message.show_info(f"Wrote {count} event{'s' if count != 1 else ''} to {path}.")

    def _export_failed(self, error: Exception) -> None:
        self.export_button.setEnabled(True)
        self.message.show_error(error_text(error))

    def _fill_people(self) -> None:
        """Anyone, then everyone enrolled (an erased person's events are found under Anyone)."""
        people, current = self.store.people(), self.person.currentData()
        self.person.blockSignals(True)
        self.person.clear()
        self.person.addItem("Anyone", None)
        for person in people:
            self.person.addItem(f"{person.name} (#{person.id})", person.id)
        self.person.setCurrentIndex(max(self.person.findData(current), 0))
        self.person.blockSignals(False)

    def _fill_doors(self) -> None:
        """All doors, then each door named in the log."""
        doors, current = self.store.event_doors(), self.door.currentData()
        self.door.blockSignals(True)
        self.door.clear()
        self.door.addItem("All doors", None)
        for door in doors:
            self.door.addItem(door, door)
        self.door.setCurrentIndex(max(self.door.findData(current), 0))
        self.door.blockSignals(False)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.timer.stop()
        wait_for_tasks(self)
        super().closeEvent(event)


def event_details(event: AccessEvent) -> str:
    """The selected event's liveness checks and what the door output did."""
    return (
        f"Liveness: {liveness_text(event) or 'not checked'}\n"
        f"Door: {event.door_action or ('none recorded' if event.decision == DecisionWord.GRANTED else 'not opened')}"
    )
