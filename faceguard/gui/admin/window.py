"""The admin window: People, Access log, Doors & groups and Settings tabs over one database, with the
engine's state."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from faceguard.app.settings import KioskSettings
from faceguard.app.site_admin import SiteAdminStore
from faceguard.core.errors import FaceGuardError
from faceguard.gui.admin.access_log import AccessLogPage
from faceguard.gui.admin.doors_page import DoorsPage
from faceguard.gui.admin.people import PeoplePage
from faceguard.gui.pipeline_loader import EngineLoader
from faceguard.gui.tasks import error_text, wait_for_tasks
from faceguard.store.repository import Store


class AdminWindow(QMainWindow):
    """Manage people and read the access log of the database a kiosk uses (both may run at once)."""

    def __init__(
        self, store: Store, engine: EngineLoader, settings: KioskSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.store, self.engine, self.settings = store, engine, settings
        self.setWindowTitle(f"FaceGuard admin — {settings.site_name}")
        self.resize(1100, 720)
        self.people = PeoplePage(store, engine, settings)
        self.access_log = AccessLogPage(store)
        self.doors = DoorsPage(store, settings)
        self.settings_tab = QWidget()  # the Settings page is built the first time its tab is opened
        QVBoxLayout(self.settings_tab).setContentsMargins(0, 0, 0, 0)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.people, "People")
        self.tabs.addTab(self.access_log, "Access log")
        self.tabs.addTab(self.doors, "Doors && groups")
        self.tabs.addTab(self.settings_tab, "Settings")
        self.tabs.currentChanged.connect(self._tab_opened)
        self.setCentralWidget(self.tabs)
        self._build_menu()

        where = str(store.path)
        if isinstance(store, SiteAdminStore):  # site mode: the file is this PC's replica of the site
            where = f"Site {store.site_name()} (this PC's copy: {store.path})"
        self.database_label = QLabel(where)
        self.engine_label = QLabel()
        self.counts_label = QLabel()
        status = self.statusBar()
        status.addWidget(self.database_label, 1)
        status.addPermanentWidget(self.engine_label)
        status.addPermanentWidget(self.counts_label)

        self.people.changed.connect(self.access_log.poll)  # names and erasures show in the log at once
        self.people.changed.connect(self.update_counts)
        self.doors.changed.connect(self.people.poll)  # a renamed group moves its people
        self.access_log.changed.connect(self.update_counts)
        engine.ready.connect(self._show_engine)
        engine.failed.connect(self._show_engine)
        engine.start(settings)
        self._show_engine()
        self.update_counts()

    def enroll(self) -> None:
        self.tabs.setCurrentWidget(self.people)
        self.people.enroll()

    def update_counts(self) -> None:
        try:
            counts = self.store.counts()
        except FaceGuardError as error:
            self.counts_label.setText(error_text(error))
            return
        people, events = counts["people"], counts["access_events"]
        self.counts_label.setText(
            f"{people} {'person' if people == 1 else 'people'} · {events} access event{'' if events == 1 else 's'}"
        )

    def _show_engine(self) -> None:
        if self.engine.pipeline is not None:
            self.engine_label.setText(f"Face engine ready ({self.engine.pipeline.spec.id})")
        elif self.engine.error is not None:
            self.engine_label.setText(f"Face engine failed: {error_text(self.engine.error)}")
        else:
            self.engine_label.setText("Loading face engine…")

    def _build_menu(self) -> None:
        enroll = QAction("&Enroll person…", self, shortcut=QKeySequence.StandardKey.New, triggered=self.enroll)
        export = QAction("E&xport access log…", self, triggered=self._export)
        close = QAction("&Close", self, shortcut=QKeySequence.StandardKey.Close, triggered=self.close)
        menu = self.menuBar().addMenu("&File")
        menu.addActions([enroll, export])
        menu.addSeparator()
        menu.addAction(close)

    def _export(self) -> None:
        self.tabs.setCurrentWidget(self.access_log)
        self.access_log.export_csv()

    def _tab_opened(self, index: int) -> None:
        layout = self.settings_tab.layout()
        if self.tabs.widget(index) is self.settings_tab and layout is not None and layout.count() == 0:
            from faceguard.gui.admin.settings_page import SettingsPage

            page = SettingsPage(self.store)
            page.saved.connect(self._settings_saved)
            scroll = QScrollArea(self.settings_tab)  # a small screen scrolls the page instead of squeezing it
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setWidget(page)
            layout.addWidget(scroll)

    def _settings_saved(self, settings: KioskSettings) -> None:
        """New settings: the title shows the site, the next enrollment uses the new threshold and camera."""
        self.settings = self.people.settings = self.doors.settings = settings
        self.setWindowTitle(f"FaceGuard admin — {settings.site_name}")

    def closeEvent(self, event: QCloseEvent) -> None:
        """Close open dialogs (the wizard stops its camera) and the Settings page (a re-encode stops after
        the current person), then wait for work still running."""
        pages = self.settings_tab.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
        for child in [*self.findChildren(QDialog), *pages]:
            child.close()
        self.people.timer.stop()
        self.access_log.timer.stop()
        wait_for_tasks(self)
        self.engine.wait()
        super().closeEvent(event)
