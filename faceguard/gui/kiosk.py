"""The kiosk window at the door: live video with named face boxes and a big ACCESS GRANTED / DENIED banner.

Three threads: the camera worker reads frames; the inference worker takes the newest one and runs
the engine (detect, track, encode, match, vote, log); the GUI thread only paints, and its watchdog
restarts a worker that is stuck or whose engine failed (``faceguard.gui.watchdog``). While a recognised
face answers its liveness challenge, the challenge is drawn over the video (big arrow, prompt,
countdown). F11 toggles full screen, Esc leaves it; at a site, leaving full screen or closing the window
needs the admin password (Ctrl-C in the terminal that started it still stops it: whoever has that
terminal has the computer).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QWindowStateChangeEvent
from PySide6.QtWidgets import QApplication, QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from faceguard.app.admin_password import AdminPassword
from faceguard.app.kiosk.banner import Banner, BannerModel
from faceguard.app.kiosk.mailbox import LatestFrame
from faceguard.app.kiosk.pending import PendingEvents
from faceguard.app.kiosk.results import FrameResult
from faceguard.app.settings import KioskSettings
from faceguard.core.errors import FaceGuardError
from faceguard.core.memory import limit_arenas
from faceguard.core.paths import RESOURCES
from faceguard.gui.camera_worker import CameraWorker
from faceguard.gui.challenge_prompt import ChallengePrompt
from faceguard.gui.images import jpeg_to_pixmap, rgb_to_qimage
from faceguard.gui.inference_worker import InferenceWorker, Prepare, SettingsChange
from faceguard.gui.password_dialog import admin_unlocked
from faceguard.gui.tasks import error_text
from faceguard.gui.video_view import VideoView
from faceguard.gui.watchdog import CAMERA_STALL, INFERENCE_STALL, Watchdog
from faceguard.store.repository import Store
from faceguard.vision.camera import Frame

if TYPE_CHECKING:
    from faceguard.app.site_link import SiteLink
    from faceguard.vision.pipeline import FacePipeline

#: Face boxes and a challenge older than this (monotonic seconds) are no longer drawn over the live picture.
FACES_STALE = 0.5
THUMBNAIL_SIZE = 160
#: When this environment variable is set (to anything), the kiosk prints one line on stderr when the
#: first video frame reaches the video view: ``faceguard: first video frame at <unix time>`` (start-up timing,
#: packaging/test_deb_in_chroot.sh).
TRACE_STARTUP_ENV = "FACEGUARD_TRACE_STARTUP"


class StatusBanner(QFrame):
    """The big coloured status: title, detail, and the recognised person's enrolled face."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.title, self.detail, self.face = QLabel(), QLabel(), QLabel()
        self.title.setObjectName("bannerTitle")
        self.detail.setObjectName("bannerDetail")
        self.detail.setWordWrap(True)
        self.face.setFixedSize(THUMBNAIL_SIZE, THUMBNAIL_SIZE)
        texts = QVBoxLayout()
        texts.addWidget(self.title)
        texts.addWidget(self.detail)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 16)
        layout.addWidget(self.face)
        layout.addLayout(texts, 1)
        self.shown: Banner | None = None

    def show_banner(self, banner: Banner) -> bool:
        """Show ``banner``; returns False when it was already showing."""
        if banner == self.shown:
            return False
        self.shown = banner
        self.title.setText(banner.title)
        self.detail.setText(banner.detail)
        self.face.setVisible(banner.thumbnail is not None)
        if banner.thumbnail is not None:
            self.face.setPixmap(jpeg_to_pixmap(banner.thumbnail, THUMBNAIL_SIZE))
        self.setProperty("screen", banner.screen.value)
        self.style().unpolish(self)
        self.style().polish(self)
        return True


class KioskWindow(QWidget):
    """The door kiosk. ``start()`` opens the camera and the engine; closing the window stops both.

    With ``admin_db``, closing the window and leaving full screen (Esc, F11, or the window manager) need
    the admin password of that database, when it has one; ``shut_down()`` closes it without.
    ``banner_changed(Banner)`` is emitted whenever the banner changes (benchmarks time it)."""

    banner_changed = Signal(object)

    def __init__(
        self,
        db_path: Path,
        settings: KioskSettings,
        *,
        demo: bool = False,
        pipeline: FacePipeline | None = None,
        prepare: Prepare | None = None,
        forced_liveness: str | None = None,
        admin_db: Path | None = None,
        site_link: SiteLink | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings, self.forced_liveness = settings, forced_liveness
        self.admin_db = admin_db
        self.site_link = site_link  # site mode: keeps db_path a replica of the server, delivers the events
        self._leaving_allowed = False  # set while the window leaves full screen or closes with the password
        self.setObjectName("kiosk")
        self.setStyleSheet((RESOURCES / "style" / "kiosk.qss").read_text(encoding="utf-8"))
        self.db_path, self.demo = db_path, demo
        self.model = BannerModel()
        self.mailbox = LatestFrame()
        self._faces_at = 0.0
        self._log_waiting = False
        self._service: tuple[str, ...] = ()  # the notice's lines about problems that last until fixed
        self._note = ""  # the notice's last passing message
        self._stopped = False
        self._trace_first_frame = bool(os.environ.get(TRACE_STARTUP_ENV))
        self._build()
        limit_arenas()  # before the workers' threads start: runs for months, replacing stuck ones
        # access events not yet written, kept across restarts of the engine and, sealed, across a close
        self.pending = PendingEvents.restored(db_path)
        self.camera = self._new_camera()
        self.inference = self._new_inference(pipeline, prepare)
        self.watchdog = Watchdog(lambda message: self._show_notice(note=message), self)
        stalled = f"Camera restarted after {CAMERA_STALL:g} s without frames."
        self.watchdog.watch("Camera", CAMERA_STALL, stalled, lambda: self.camera, self._restart_camera)
        stalled = f"Recognition restarted: it made no progress for {INFERENCE_STALL:g} s."
        self.watchdog.watch("Recognition", INFERENCE_STALL, stalled, lambda: self.inference, self._restart_inference)
        self.timer = QTimer(self, interval=200)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _build(self) -> None:
        self.site = QLabel()
        self.site.setObjectName("site")
        self.demo_label = QLabel("DEMO — sample photos, demo database")
        self.demo_label.setObjectName("demo")
        self.demo_label.setVisible(self.demo)
        self.clock = QLabel()
        self.clock.setObjectName("clock")
        top = QHBoxLayout()
        top.addWidget(self.site)
        top.addWidget(self.demo_label)
        top.addStretch(1)
        top.addWidget(self.clock)
        self.video = VideoView()
        self.challenge_prompt = ChallengePrompt()
        stage = QGridLayout()  # the challenge over the video, in the same cell
        stage.addWidget(self.video, 0, 0)
        stage.addWidget(self.challenge_prompt, 0, 0)
        self.banner = StatusBanner()
        self.notice = QLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)  # a service line may be longer than the window is wide
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(stage, 1)
        layout.addWidget(self.banner)
        layout.addWidget(self.notice)
        self.resize(1024, 768)
        self._show_site()
        self._tick()

    def _new_camera(self) -> CameraWorker:
        camera = CameraWorker(self.settings.camera, self, mailbox=self.mailbox)
        camera.frame.connect(self._on_frame)
        camera.status.connect(self._on_camera_status)
        return camera

    def _new_inference(
        self, pipeline: FacePipeline | None = None, prepare: Prepare | None = None, *, create: bool = True
    ) -> InferenceWorker:
        inference = InferenceWorker(
            self.db_path,
            self.settings,
            self.mailbox,
            self,
            pipeline=pipeline,
            prepare=prepare,
            forced_liveness=self.forced_liveness,
            pending=self.pending,
            create=create,
        )
        inference.ready.connect(self._on_ready)
        inference.result.connect(self._on_result)
        inference.failed.connect(self._on_failed)
        inference.problem.connect(self._on_problem)
        inference.settings_changed.connect(self._on_settings_changed)
        return inference

    def start(self) -> None:
        if self.site_link is not None:
            self.site_link.start()
        self.inference.start()
        self.camera.start()
        self.watchdog.start()

    def _restart_camera(self) -> None:
        self.camera = self._new_camera()
        self.camera.start()

    def _restart_inference(self) -> None:
        """A fresh recognition worker in place of one that failed or is stuck; it opens the database
        afresh, and does not create it should the file be missing meanwhile. It reuses the engine a
        failed worker loaded (loading it again would cost seconds and memory each time), but not one a
        stuck worker may still be inside."""
        old = self.inference
        pipeline = None if old.is_running() else old.pipeline
        old.pipeline = None  # the retired worker outlives its thread; its models must not live on with it
        self.inference = self._new_inference(pipeline, old.prepare, create=False)
        self.inference.start()

    def stop(self) -> None:
        """Stop both workers and wait for them (the camera first, so no frame waits for inference)."""
        self._stopped = True
        self.timer.stop()
        self.watchdog.stop()
        self.camera.stop()
        self.inference.stop()
        self.pending.keep(self.db_path)
        if self.site_link is not None:
            self.site_link.stop()

    def shut_down(self) -> None:
        """Close without asking for the admin password (Ctrl-C in the terminal)."""
        self._leaving_allowed = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        if not self._unlocked("close the kiosk"):
            event.ignore()
            return
        self.stop()
        super().closeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_F11 and not self.isFullScreen():
            self.showFullScreen()
        elif event.key() in (Qt.Key.Key_F11, Qt.Key.Key_Escape) and self.isFullScreen():
            self._leave_full_screen()
        else:
            super().keyPressEvent(event)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        """Full screen left some other way (the window manager): asked for the password, else restored."""
        super().changeEvent(event)
        if (
            isinstance(event, QWindowStateChangeEvent)
            and event.oldState() & Qt.WindowState.WindowFullScreen
            and not self.isFullScreen()
            and not self._leaving_allowed
        ):
            QTimer.singleShot(0, self._confirm_left_full_screen)

    def _leave_full_screen(self) -> None:
        if self._unlocked("leave full screen"):
            self._leaving_allowed = True
            self.showNormal()
            self._leaving_allowed = False

    def _confirm_left_full_screen(self) -> None:
        if not self.isFullScreen() and not self._unlocked("leave full screen"):
            self.showFullScreen()

    def _unlocked(self, purpose: str) -> bool:
        """Whether the window may ``purpose``: always in the demo, after Ctrl-C or at a site without an
        admin password; else once the admin gives it (a database that cannot be read keeps it locked)."""
        if self.admin_db is None or self._leaving_allowed:
            return True
        try:
            with Store.open(self.admin_db, create=False) as store:
                password = AdminPassword(store)
                return not password.is_set or admin_unlocked(password, purpose, "kiosk", self)
        except FaceGuardError as error:
            self._show_notice(note=f"The admin password cannot be checked: {error_text(error)}")
            return False

    @property
    def current_banner(self) -> Banner | None:
        return self.banner.shown

    def _on_frame(self, frame: Frame) -> None:
        self.video.set_frame(rgb_to_qimage(frame.image))
        if self._trace_first_frame:
            self._trace_first_frame = False
            print(f"faceguard: first video frame at {time.time():.3f}", file=sys.stderr, flush=True)
        if (self.video.faces or self.challenge_prompt.challenge) and time.monotonic() - self._faces_at > FACES_STALE:
            self._clear_faces()

    def _on_result(self, result: FrameResult) -> None:
        self._faces_at = time.monotonic()
        self.video.set_faces(result.faces)
        self.challenge_prompt.show_challenge(result.challenges[0] if result.challenges else None)
        self.model.frame_result(result)
        if result.decisions and self.settings.sound:
            QApplication.beep()
        self._follow_service(result)
        self._tick()

    def _follow_service(self, result: FrameResult) -> None:
        """Keep the notice's service lines on what the engine reports: access events waiting to be
        written (and say when all are), enrolled people this model cannot recognise yet, a door output
        that is out of service, a site server out of reach (and since when)."""
        log = None
        if result.log_problem:
            log = (
                f"{result.log_problem} {result.unlogged} access event(s) are kept and will be written "
                "when the database is free."
            )
        elif self._log_waiting:
            self._note = "All access events are written."
        self._log_waiting = result.log_problem is not None
        site = self.site_link.state.notice() if self.site_link is not None else None
        lines = (log, result.gallery_problem, result.door_problem, site)
        self._show_notice(service=tuple(line for line in lines if line))

    def _show_notice(self, note: str | None = None, service: tuple[str, ...] | None = None) -> None:
        """The notice line: the service lines, which stay until the problem is fixed, above the latest
        passing message; a new ``note`` or ``service`` replaces the shown one."""
        self._note = self._note if note is None else note
        self._service = self._service if service is None else service
        self.notice.setText("\n".join(line for line in (*self._service, self._note) if line))

    def _on_camera_status(self, message: str) -> None:
        self.model.camera_status(message)
        if message:
            self._clear_faces()
        self._tick()

    def _clear_faces(self) -> None:
        self.video.set_faces(())
        self.challenge_prompt.show_challenge(None)

    def _on_ready(self) -> None:
        self.model.engine_ready()
        self._show_notice(note=self.watchdog.note, service=())  # a restart is still told
        self._tick()

    def _on_settings_changed(self, change: SettingsChange) -> None:
        """An administrator saved new settings: voting, threshold and door already apply (the engine
        took them); show the new site name, follow the sound choice, reopen a changed camera and
        restart the engine for a new device, model or thread count."""
        if self._stopped:  # queued before the window closed: start nothing new
            return
        fields = change.fields
        self.settings = replace(self.settings, **{name: getattr(change.after, name) for name in fields})
        self._show_site()
        if fields & {"device", "model", "threads"}:
            self.inference.stop()
            self.inference.deleteLater()
            self.model = BannerModel()
            self.inference = self._new_inference()
            self.inference.start()
        if "camera" in fields:
            self.camera.stop()
            self.camera.deleteLater()
            self.camera = self._new_camera()
            self.camera.start()
        self._show_notice(note=f"Settings changed: {', '.join(sorted(fields))}.")
        self._tick()

    def _show_site(self) -> None:
        self.site.setText(self.settings.site_name)
        self.setWindowTitle(f"FaceGuard kiosk — {self.settings.site_name}" + (" (DEMO)" if self.demo else ""))

    def _on_problem(self, error: Exception) -> None:
        self._show_notice(note=error_text(error))

    def _on_failed(self, error: Exception) -> None:
        self.model.engine_failed(self.watchdog.failed("Recognition", error_text(error)))
        self._tick()

    def _tick(self) -> None:
        self.clock.setText(time.strftime("%H:%M"))
        banner = self.model.banner(self.settings.site_name)
        if self.banner.show_banner(banner):
            self.banner_changed.emit(banner)
