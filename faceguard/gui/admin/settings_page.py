"""The kiosk's settings page: every field of KioskSettings, checked by its own rules before it is stored.

The threshold is set for the site: the administrator states how many strangers may at most be matched
to someone ("1 in X"), and the door's threshold follows from the model's calibration data and the
number of people enrolled now (``faceguard.app.site_threshold``); a fixed threshold may be set instead.
Either way the page shows what it means for today's gallery: the expected share of strangers matched
(FPIR) and of enrolled people missed (FNIR), and the 1:1 rates a badge + face check gets. A running
kiosk on the same database picks up saved changes within seconds.

Under the model the page says how many enrolled people have no template of it (their faces were
encoded with another model, e.g. before an upgrade), and "Re-encode now" makes those templates from
the stored thumbnails in the background (``faceguard.app.reencode``).

The "Door" group chooses the lock output (``faceguard.door``): none, an HTTP webhook, a Shelly-style
relay, a USB-serial relay board, a GPIO relay, an MQTT relay or an OSDP reader line to an access panel,
its address, the unlock pulse and the lock's polarity; "Test the door" pulses the door as entered (saved
or not) once, in the background, and says what happened.

The "Liveness" group (``faceguard.gui.admin.liveness_settings``) chooses the presentation-attack checks,
says what each costs in time, and holds their options.

The "Privacy" group sets how long face snapshots and access events are kept (``faceguard.store.retention``).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from faceguard.app.door_output import door_output
from faceguard.app.settings import (
    DEVICES,
    DOOR_DRIVERS,
    POLARITIES,
    KioskSettings,
    load_settings,
    save_settings,
    site_time_zone,
)
from faceguard.app.site_admin import SiteAdminStore
from faceguard.app.site_threshold import SiteThreshold
from faceguard.core.errors import DoorError, FaceGuardError
from faceguard.door.driver import DoorState
from faceguard.gui.admin.common import MessageBar
from faceguard.gui.admin.liveness_settings import LivenessGroup
from faceguard.gui.tasks import error_text, run_task, wait_for_tasks
from faceguard.matching.calibration import Calibration
from faceguard.store.repository import Store
from faceguard.store.retention import MAX_DAYS
from faceguard.vision.spec import ModelSpec, get_model_spec, list_models

if TYPE_CHECKING:
    from faceguard.app.reencode import ReencodeReport

DEVICE_NAMES = {
    "auto": "Automatic (best available)",
    "cpu": "CPU",
    "cuda": "CUDA (NVIDIA GPU)",
    "mps": "MPS (Apple GPU)",
}
CAMERA_HINT = (
    "A webcam number (0 is the first), a video file, an rtsp:// or http:// stream URL, "
    "or a folder of photos (shown as a slide show)."
)
VIDEO_FILTER = "Videos (*.mp4 *.avi *.mkv *.mov *.webm *.m4v);;All files (*)"
LIVE_NOTE = (
    "A running kiosk applies saved changes within 2 s (a new camera, device, model or "
    "thread count reopens its camera or restarts its engine)."
)
UNAVAILABLE = " — not available on this computer"
RATE_LIMIT_TEXT = (
    "A face refused this often (unknown, or failing the liveness check) is not judged again for the pause; "
    "a repeat doubles it."
)
RETENTION_TEXT = (
    "Older snapshots and events are deleted by the kiosk once a day ('faceguard db purge' does it at once). "
    "30 and 90 days follow the CNIL's limits for camera images and for records of comings and goings."
)
DERIVED_TEXT = "Derive the threshold from this target and the number of people enrolled"
DOOR_DRIVER_NAMES = {
    "none": "None (no lock output)",
    "http": "HTTP webhook",
    "shelly": "Shelly-style relay (times the pulse itself)",
    "serial": "USB-serial relay board (LCUS-1)",
    "gpio": "GPIO relay (Raspberry Pi)",
    "mqtt": "MQTT relay (Shelly RPC, times the pulse itself)",
    "osdp": "OSDP reader to an access panel (sends the badge)",
}
DOOR_ADDRESS_HINTS = {
    "none": "The kiosk decides and logs, and opens no lock.",
    "http": "A URL with {state}, which becomes on or off: http://10.0.0.5/relay?state={state}",
    "shelly": "The relay's address: http://10.0.0.5 (the kiosk calls /relay/0?turn=on&timer=…)",
    "serial": "The board's serial port: /dev/ttyUSB0 on Linux, COM3 on Windows",
    "gpio": "The relay's GPIO pin, by BCM number: 17 or GPIO17 (not the header's pin number)",
    "mqtt": "The broker and the relay's topic prefix: mqtt://10.0.0.2:1883/shellyplus1-a8032ab12345 "
    "(user:password@ before the host if the broker needs a login; the kiosk publishes Switch.Set to <prefix>/rpc)",
    "osdp": "The RS-485 port and this reader's OSDP address on the panel: /dev/ttyUSB0@1 (add :115200 for "
    "another speed). The panel gets the granted person's badge as a 26-bit card, facility:card (12:34567), "
    "and opens its own lock: the lock type does not apply",
}
POLARITY_NAMES = {
    "energise-to-unlock": "Energise to unlock (fail-secure electric strike)",
    "energise-to-lock": "Energise to lock (fail-safe magnetic lock)",
}


def pulse_door(settings: KioskSettings) -> float:
    """Lock, unlock for the pulse, wait until the door locks again (its timer, or the relay that times
    the pulse), lock on closing and release the door the settings choose; returns the pulse. Runs in a
    task thread (it waits the pulse); raises DoorError when the door fails."""
    door = door_output(settings)
    if door is None:
        raise FaceGuardError("Choose a door output first.")
    try:
        door.start()
        pulse = door.unlock()
        while door.state is DoorState.UNLOCKED:  # until the door's own timer (or the relay) locks it
            time.sleep(0.05)
            door.poll()
        if door.problem is not None:
            raise DoorError(door.problem)
    except FaceGuardError:
        with contextlib.suppress(FaceGuardError):  # the first error says what went wrong
            door.close()
        raise
    door.close()
    return pulse


def missing_text(missing: int, model: str) -> str:
    """What it means that ``missing`` enrolled people have no template of ``model``."""
    people = "1 person has" if missing == 1 else f"{missing:,} people have"
    return (
        f"{people} no face template for {model} yet: the kiosk will not recognise them until their "
        "faces are re-encoded."
    )


def reencode_in_thread(
    db_path: Path, model: str, device: str, threads: int, progress: Callable[[int, int], None]
) -> ReencodeReport:
    """Load ``model`` and give every enrolled face a template of it, through a Store of this thread's
    own (a connection belongs to one thread). Runs in a task thread: torch loads here."""
    from faceguard.app.engine import load_pipeline
    from faceguard.app.reencode import reencode

    pipeline = load_pipeline(model, device, threads)
    with Store.open(db_path, create=False) as store:
        return reencode(store, pipeline, progress)


def report_text(report: ReencodeReport) -> str:
    """The re-encoding's summary, and the first failure's reason when some failed."""
    if not report.failed:
        return report.summary()
    first, more = report.failed[0], len(report.failed) - 1
    others = f" ({more} more: 'faceguard people reencode --model {report.model_id}' lists each)" if more else ""
    return (
        f"{report.summary()} Template {first.template_id} of person #{first.person_id} failed: {first.reason}{others}"
    )


def available_devices() -> set[str]:
    """The device choices that work here, "auto" included (imports torch: call it off the GUI thread)."""
    from faceguard.vision import device

    return {"auto"} | device.available_devices()


class SettingsPage(QWidget):
    """Edit and store the kiosk's settings; ``saved(KioskSettings)`` after each successful save.

    A background check marks the devices this computer lacks, and "Re-encode now" runs in the
    background: close the page (or call ``wait()``) before deleting it. ``reencode_progress(done,
    total)`` comes after each person re-encoded."""

    saved = Signal(object)
    reencode_progress = Signal(int, int)

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._calibrations: dict[str, Calibration | None] = {}
        self._enrolled_people: dict[str, int] = {}  # by model id; see _enrolled
        self.message = MessageBar()

        self.site_name = QLineEdit()
        # Site mode: the settings of every door, or of one door only (which win there).
        self.scope = QComboBox()
        self.scope.addItem("Every door", None)
        if isinstance(store, SiteAdminStore):
            for name in store.door_names():
                self.scope.addItem(f"{name} only", name)
        self.scope.currentIndexChanged.connect(self.revert)
        self.door = QLineEdit()
        self.camera = QLineEdit()
        self.browse = QPushButton("Browse folder/video…")
        browse_menu = QMenu(self.browse)
        browse_menu.addAction("Folder of photos…", self._choose_folder)
        browse_menu.addAction("Video file…", self._choose_video)
        self.browse.setMenu(browse_menu)
        camera_hint = QLabel(CAMERA_HINT)
        camera_hint.setWordWrap(True)

        self.device = QComboBox()
        for device in DEVICES:
            self.device.addItem(DEVICE_NAMES[device], device)
        self.device_hint = QLabel("Checking which devices this computer has…")
        self.model = QComboBox()
        for spec in list_models():
            self.model.addItem(spec.name, spec.name)
        self.model_status = QLabel()
        self.model_status.setWordWrap(True)
        self.reencode_button = QPushButton("Re-encode now")
        self.reencode_button.setToolTip(
            "Make the missing templates from the face thumbnails the database "
            "keeps (nobody is re-enrolled; templates of other models are kept)."
        )
        self.model_missing = QWidget()
        self._reencoding: str | None = None  # the model being re-encoded
        self._stop = threading.Event()  # set when the page closes: the re-encoding stops after the current person
        self._testing_door = False

        self.strangers = QSpinBox()
        self.strangers.setRange(10, 100_000_000)
        self.strangers.setGroupSeparatorShown(True)
        self.strangers.setPrefix("1 in ")
        self.strangers.setSuffix(" strangers at most")
        self.calibrated = QCheckBox(DERIVED_TEXT)
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.999)
        self.threshold.setDecimals(3)
        self.threshold.setSingleStep(0.01)
        self.rates = QLabel()
        self.rates.setWordWrap(True)
        self.threads = QSpinBox()
        self.threads.setRange(1, 256)
        self.k = QSpinBox()
        self.n = QSpinBox()
        for box in (self.k, self.n):
            box.setRange(1, 99)
        self.cooldown = QDoubleSpinBox()
        self.cooldown.setRange(0.0, 3600.0)
        self.cooldown.setDecimals(1)
        self.cooldown.setSuffix(" s")
        self.sound = QCheckBox("Play a sound for each decision")
        self.rate_limit_denials = QSpinBox()
        self.rate_limit_denials.setRange(1, 20)
        self.rate_limit_denials.setSuffix(" refusals in a minute")
        self.rate_limit_pause = QDoubleSpinBox()
        self.rate_limit_pause.setRange(5.0, 3600.0)
        self.rate_limit_pause.setDecimals(0)
        self.rate_limit_pause.setSuffix(" s pause")

        self.door_driver = QComboBox()
        for driver in DOOR_DRIVERS:
            self.door_driver.addItem(DOOR_DRIVER_NAMES[driver], driver)
        self.door_address = QLineEdit()
        self.door_address_hint = QLabel()
        self.door_address_hint.setWordWrap(True)
        self.door_pulse = QDoubleSpinBox()
        self.door_pulse.setRange(1.0, 30.0)
        self.door_pulse.setDecimals(1)
        self.door_pulse.setSuffix(" s")
        self.door_pulse.setMaximumWidth(140)
        self.door_polarity = QComboBox()
        for polarity in POLARITIES:
            self.door_polarity.addItem(POLARITY_NAMES[polarity], polarity)
        self.test_door_button = QPushButton("Test the door")
        self.test_door_button.setToolTip("Unlock the door as entered here once for its pulse, then lock it.")
        self.door_test_result = QLabel()
        self.door_test_result.setWordWrap(True)
        for spin in (self.threads, self.cooldown):
            spin.setMaximumWidth(140)

        self.liveness_group = LivenessGroup()

        self.snapshot_retention_days = QSpinBox()
        self.event_retention_days = QSpinBox()
        for box in (self.snapshot_retention_days, self.event_retention_days):
            box.setRange(1, MAX_DAYS)
            box.setSuffix(" days")
            box.setMaximumWidth(140)

        self.save_button = QPushButton("Save")
        self.revert_button = QPushButton("Revert")
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.revert)
        self.calibrated.toggled.connect(self._threshold_mode_changed)
        self.model.currentIndexChanged.connect(self._model_changed)
        self.threshold.valueChanged.connect(self._update_rates)
        self.strangers.valueChanged.connect(self._threshold_mode_changed)
        self.reencode_button.clicked.connect(self.reencode)
        self.reencode_progress.connect(self._show_progress)
        self.door_driver.currentIndexChanged.connect(self._door_driver_changed)
        self.test_door_button.clicked.connect(self.test_door)
        self._build_layout(camera_hint)
        self.revert()
        run_task(available_devices, on_result=self._mark_devices, on_error=self._devices_unknown, parent=self)

    def _build_layout(self, camera_hint: QLabel) -> None:
        camera_row = QHBoxLayout()
        camera_row.addWidget(self.camera, 1)
        camera_row.addWidget(self.browse)
        voting_row = QHBoxLayout()
        voting_row.addWidget(self.k)
        voting_row.addWidget(QLabel("of the last"))
        voting_row.addWidget(self.n)
        voting_row.addWidget(QLabel("frames must agree"), 1)

        form = QFormLayout()
        if self.scope.count() > 1:
            form.addRow("Settings of", self.scope)
        form.addRow("Site name", self.site_name)
        form.addRow("Door", self.door)
        form.addRow("Camera", camera_row)
        form.addRow("", camera_hint)
        form.addRow("Device", self.device)
        form.addRow("", self.device_hint)
        missing_row = QHBoxLayout(self.model_missing)
        missing_row.setContentsMargins(0, 0, 0, 0)
        missing_row.addWidget(self.model_status, 1)
        missing_row.addWidget(self.reencode_button)
        form.addRow("Model", self.model)
        form.addRow("", self.model_missing)
        form.addRow("Strangers matched", self.strangers)
        form.addRow("Threshold", self.calibrated)
        form.addRow("", self.threshold)
        form.addRow("", self.rates)
        form.addRow("Inference threads", self.threads)
        form.addRow(
            "",
            QLabel(
                f"This computer has {os.cpu_count() or 1} CPU cores; one thread leaves the "
                "others to the camera and the screen."
            ),
        )
        form.addRow("Voting (k of n)", voting_row)
        form.addRow("Cooldown", self.cooldown)
        form.addRow("", QLabel("After a decision about a person, no other decision about them for this long."))
        rate_row = QHBoxLayout()
        rate_row.addWidget(self.rate_limit_denials)
        rate_row.addWidget(self.rate_limit_pause)
        rate_row.addStretch(1)
        form.addRow("Too many attempts", rate_row)
        form.addRow("", QLabel(RATE_LIMIT_TEXT))
        form.addRow("Sound", self.sound)

        door_form = QFormLayout()
        door_form.addRow("Lock output", self.door_driver)
        door_form.addRow("Address", self.door_address)
        door_form.addRow("", self.door_address_hint)
        door_form.addRow("Unlock for", self.door_pulse)
        door_form.addRow("Lock type", self.door_polarity)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_door_button)
        test_row.addWidget(self.door_test_result, 1)
        door_form.addRow("", test_row)
        self.door_group = QGroupBox("Door")
        self.door_group.setLayout(door_form)

        privacy_form = QFormLayout()
        privacy_form.addRow("Keep face snapshots for", self.snapshot_retention_days)
        privacy_form.addRow("Keep access events for", self.event_retention_days)
        retention_text = QLabel(RETENTION_TEXT)
        retention_text.setWordWrap(True)
        privacy_form.addRow("", retention_text)
        self.privacy_group = QGroupBox("Privacy")
        self.privacy_group.setLayout(privacy_form)

        buttons = QHBoxLayout()
        buttons.addWidget(QLabel(LIVE_NOTE), 1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(form)
        layout.addWidget(self.door_group)
        layout.addWidget(self.liveness_group)
        layout.addWidget(self.privacy_group)
        layout.addStretch(1)
        layout.addLayout(buttons)

    # --- reading and writing --------------------------------------------------------------------

    def revert(self) -> None:
        """Show the stored settings (the defaults, with the reason, if the stored ones are unusable)."""
        self.message.hide()
        door = self.scope.currentData()
        try:
            settings = (
                self.store.door_settings(door)
                if isinstance(self.store, SiteAdminStore) and door
                else load_settings(self.store)
            )
        except (ValueError, FaceGuardError) as error:
            self.message.show_error(f"{error} The defaults are shown instead.")
            settings = KioskSettings()
        self.show_settings(settings)

    def show_settings(self, settings: KioskSettings) -> None:
        self.site_name.setText(settings.site_name)
        self.door.setText(settings.door)
        self.camera.setText(settings.camera)
        _select(self.device, settings.device)
        _select(self.model, settings.model)
        self.strangers.setValue(round(1 / settings.max_fpir))
        self.calibrated.setChecked(settings.threshold is None)
        self._model_changed()
        if settings.threshold is not None:
            self.threshold.setValue(settings.threshold)
        self.threads.setValue(settings.threads)
        self.k.setValue(settings.k)
        self.n.setValue(settings.n)
        self.cooldown.setValue(settings.cooldown)
        self.sound.setChecked(settings.sound)
        self.rate_limit_denials.setValue(settings.rate_limit_denials)
        self.rate_limit_pause.setValue(settings.rate_limit_pause)
        _select(self.door_driver, settings.door_driver)
        self.door_address.setText(settings.door_address)
        self.door_pulse.setValue(settings.door_pulse)
        _select(self.door_polarity, settings.door_polarity)
        self._door_driver_changed()
        self.liveness_group.show_settings(settings)
        self.snapshot_retention_days.setValue(settings.snapshot_retention_days)
        self.event_retention_days.setValue(settings.event_retention_days)

    def settings(self) -> KioskSettings:
        """The settings as entered; raises ValueError with the user-facing reason when they break a rule."""
        return KioskSettings(
            site_name=self.site_name.text().strip(),
            door=self.door.text().strip(),
            camera=self.camera.text().strip(),
            device=self.device.currentData(),
            model=self.model.currentData(),
            threshold=None if self.calibrated.isChecked() else self.threshold.value(),
            max_fpir=1 / self.strangers.value(),
            threads=self.threads.value(),
            k=self.k.value(),
            n=self.n.value(),
            cooldown=self.cooldown.value(),
            sound=self.sound.isChecked(),
            rate_limit_denials=self.rate_limit_denials.value(),
            rate_limit_pause=self.rate_limit_pause.value(),
            door_driver=self.door_driver.currentData(),
            door_address=self.door_address.text().strip(),
            door_pulse=self.door_pulse.value(),
            door_polarity=self.door_polarity.currentData(),
            snapshot_retention_days=self.snapshot_retention_days.value(),
            event_retention_days=self.event_retention_days.value(),
            time_zone=site_time_zone(self.store),  # set on the Doors & groups page: kept as it is now
            **self.liveness_group.values(),
        )

    def save(self) -> None:
        """Store the settings in one transaction; on a refusal show why and keep the input."""
        try:
            settings = self.settings()
            spec = get_model_spec(settings.model)
            door = self.scope.currentData()
            if isinstance(self.store, SiteAdminStore) and door:
                own = self.store.save_door_settings(door, settings)
                kept = ", ".join(sorted(key.removeprefix("kiosk.") for key in own)) or "none: it follows the site's"
                self.message.show_info(f"Saved for {door} only: {kept}. {LIVE_NOTE}")
                return
            save_settings(self.store, settings)
        except (ValueError, FaceGuardError) as error:
            self.message.show_error(str(error))
            return
        missing = self._missing(spec)
        if missing:
            self.message.show_error(
                f"Saved, but {missing_text(missing, spec.name)} Use Re-encode now under Model. {LIVE_NOTE}"
            )
        else:
            self.message.show_info(f"Saved. {LIVE_NOTE}")
        self.saved.emit(settings)

    # --- the door output -----------------------------------------------------------------------------

    def _door_driver_changed(self) -> None:
        driver = self.door_driver.currentData()
        self.door_address_hint.setText(DOOR_ADDRESS_HINTS.get(driver, ""))
        output = driver != "none"
        for widget in (self.door_address, self.door_pulse, self.door_polarity, self.test_door_button):
            widget.setEnabled(output and not (widget is self.test_door_button and self._testing_door))

    def test_door(self) -> None:
        """Pulse the door as entered once, in the background; the result shows beside the button."""
        try:
            settings = self.settings()
        except (ValueError, FaceGuardError) as error:
            self.door_test_result.setText(str(error))
            return
        self._testing_door = True
        self.test_door_button.setEnabled(False)
        self.door_test_result.setText(f"Unlocking for {settings.door_pulse:g} s…")
        run_task(pulse_door, settings, on_result=self._door_tested, on_error=self._door_test_failed, parent=self)

    def _door_tested(self, pulse: float) -> None:
        self._door_test_ended(f"The door unlocked for {pulse:g} s and is locked again.")

    def _door_test_failed(self, error: Exception) -> None:
        self._door_test_ended(f"The door test failed: {error_text(error)}")

    def _door_test_ended(self, text: str) -> None:
        self._testing_door = False
        self.door_test_result.setText(text)
        self._door_driver_changed()

    # --- people without a template of the model ----------------------------------------------------

    def reencode(self) -> None:
        """Re-encode every enrolled face with the selected model in the background; the page stays usable."""
        model = self.model.currentData()
        self._reencoding = model
        self._stop.clear()
        self.reencode_button.setEnabled(False)
        self.model_status.setText(f"Loading {model}…")
        run_task(
            reencode_in_thread,
            self.store.path,
            model,
            self.device.currentData(),
            self.threads.value(),
            self._progress,
            on_result=self._reencoded,
            on_error=self._reencode_failed,
            parent=self,
        )

    def _progress(self, done: int, total: int) -> None:
        """After each person, in the re-encoding thread: report, or stop if the page is closing."""
        if self._stop.is_set():
            raise FaceGuardError(
                "Re-encoding stopped as the page closed; what was done is kept, and "
                "running it again goes on from there."
            )
        self.reencode_progress.emit(done, total)

    def _show_progress(self, done: int, total: int) -> None:
        self.model_status.setText(f"Re-encoding with {self._reencoding}… {done:,} / {total:,}")

    def _reencoded(self, report: ReencodeReport) -> None:
        (self.message.show_error if report.failed else self.message.show_info)(report_text(report))
        self._reencode_ended()

    def _reencode_failed(self, error: Exception) -> None:
        self.message.show_error(f"Re-encoding with {self._reencoding} failed: {error_text(error)}")
        self._reencode_ended()

    def _reencode_ended(self) -> None:
        """New templates: the missing count, the gallery's size and so the derived threshold change."""
        self._reencoding = None
        self.reencode_button.setEnabled(True)
        self._model_changed()

    def _show_missing(self) -> None:
        """Under the model: how many enrolled people it cannot recognise yet (hidden when none)."""
        if self._reencoding is not None:  # its progress shows instead
            return
        spec = self._spec()
        missing = 0 if spec is None else self._missing(spec)
        self.model_missing.setVisible(missing > 0)
        if spec is not None and missing:
            self.model_status.setText(missing_text(missing, spec.name))

    def _missing(self, spec: ModelSpec) -> int:
        try:
            return self.store.people_without_model(spec.id)
        except FaceGuardError:
            return 0

    # --- threshold and its error rates ------------------------------------------------------------

    def _spec(self) -> ModelSpec | None:
        try:
            return get_model_spec(self.model.currentData())
        except (ValueError, FaceGuardError):
            return None

    def _model_changed(self) -> None:
        self._enrolled_people.clear()  # counted anew: people may have been enrolled or re-encoded meanwhile
        self._threshold_mode_changed()
        self._show_missing()

    def _rule(self, spec: ModelSpec) -> SiteThreshold:
        """The threshold rule as entered (CalibrationError if the model's calibration file is unusable)."""
        fixed = None if self.calibrated.isChecked() else self.threshold.value()  # not rounded
        return SiteThreshold(spec, self._calibration(spec.id), 1 / self.strangers.value(), fixed)

    def _threshold_mode_changed(self) -> None:
        derive = self.calibrated.isChecked()
        self.threshold.setEnabled(not derive)
        spec = self._spec()
        if derive and spec is not None:
            with contextlib.suppress(FaceGuardError):  # _update_rates says why
                self.threshold.setValue(self._rule(spec).for_gallery(self._enrolled(spec.id)))
        self._update_rates()

    def _update_rates(self) -> None:
        spec = self._spec()
        if spec is None:
            self.rates.setText(f"The model '{self.model.currentData()}' is not installed on this computer.")
            return
        try:
            rule = self._rule(spec)
        except FaceGuardError as error:
            self.rates.setText(str(error))
            return
        self.rates.setText(describe_rule(rule, self._enrolled(spec.id)))

    def _enrolled(self, model_id: str) -> int:
        """How many people the model's gallery holds, counted once per model change, revert or re-encoding
        (the count reads every template; the rates are worded anew on every keystroke)."""
        if model_id not in self._enrolled_people:
            try:
                self._enrolled_people[model_id] = self.store.enrolled_count(model_id)
            except FaceGuardError:
                return 0
        return self._enrolled_people[model_id]

    def _calibration(self, model_id: str) -> Calibration | None:
        if model_id not in self._calibrations:
            self._calibrations[model_id] = Calibration.load(model_id)
        return self._calibrations[model_id]

    # --- camera and device choices ----------------------------------------------------------------

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of photos for the kiosk", self.camera.text())
        if folder:
            self.camera.setText(folder)

    def _choose_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Video file for the kiosk", self.camera.text(), VIDEO_FILTER)
        if path:
            self.camera.setText(path)

    def _mark_devices(self, available: set[str]) -> None:
        missing = []
        for index in range(self.device.count()):
            device = self.device.itemData(index)
            if device.split(":")[0] not in available:
                missing.append(DEVICE_NAMES.get(device, device))
                self.device.setItemText(index, self.device.itemText(index) + UNAVAILABLE)
        self.device_hint.setText(
            f"Not available on this computer: {', '.join(missing)}."
            if missing
            else "Every device is available on this computer."
        )

    def _devices_unknown(self, error: Exception) -> None:
        self.device_hint.setText(f"Cannot tell which devices this computer has: {error_text(error)}")

    def wait(self) -> None:
        """Block until the device check and a re-encoding end (a running task must not be deleted with
        the page)."""
        wait_for_tasks(self)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._stop.set()
        self.wait()
        super().closeEvent(event)


def _select(combo: QComboBox, value: str) -> None:
    """Select the item whose data is ``value``, adding it (as typed) if the list lacks it."""
    index = combo.findData(value)
    if index < 0:
        combo.addItem(value, value)
        index = combo.count() - 1
    combo.setCurrentIndex(index)


def describe_rule(rule: SiteThreshold, enrolled: int) -> str:
    """What the threshold means today: 1:N rates for this gallery, and the badge + face (1:1) rates."""
    calibration = rule.calibration
    threshold = rule.for_gallery(enrolled)
    if calibration is None:
        return f"Threshold {threshold:.3f}. No calibration data for this model: its error rates are unknown."
    fpir, fnir = calibration.open_set_rates(threshold, enrolled)
    people = f"{enrolled:,} {'person' if enrolled == 1 else 'people'}"
    limit = (
        " The target is stricter than the calibration data can measure at this size: the threshold "
        "stops just below the closest stranger pair measured."
        if rule.beyond_data(enrolled)
        else ""
    )
    far, frr = calibration.error_rates(rule.one_to_one())
    return (
        f"With {people} enrolled: threshold {threshold:.3f}, expected {_percent(fpir)} of strangers matched "
        f"to someone (FPIR) and {_percent(fnir)} of enrolled people not recognised (FNIR).{limit} "
        f"Badge + face (1:1) checks use {rule.one_to_one():.3f}: FAR {_percent(far)}, FRR {_percent(frr)} "
        f"on {calibration.pairs:,} {calibration.source} calibration pairs."
    )


def _percent(rate: float) -> str:
    return f"{100 * rate:.2g} %" if 0 < rate < 0.01 else f"{100 * rate:.1f} %"
