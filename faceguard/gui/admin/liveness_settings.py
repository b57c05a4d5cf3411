"""The settings page's Liveness group: which presentation-attack checks the kiosk runs, what each costs in
time, and their options (the challenge's answer time and sides; the site's passive model folder and its
live score threshold). Its fields are stored with the other kiosk settings and checked by their rules."""

from __future__ import annotations

from html import escape
from typing import Any

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
    QPushButton,
    QWidget,
)

from faceguard.access.liveness import LivenessMode
from faceguard.app.kiosk.liveness import ACTIVE_ADDED_SECONDS, PASSIVE_MS_PER_FACE
from faceguard.app.settings import LIVENESS_MODES, KioskSettings

TITLE = "Liveness (photo and screen attacks)"
MODE_NAMES = {
    "off": "Off",
    "passive": "Passive (the site's anti-spoofing model)",
    "active": "Active (a head turn on request)",
    "both": "Both",
}
_ACTIVE_COST = f"adds the person's answer, about {ACTIVE_ADDED_SECONDS:g} s (median)"
_PASSIVE_COST = f"adds about {PASSIVE_MS_PER_FACE:g} ms per face on each encoded frame (one CPU thread)"
#: One line per mode: what it does, then what it costs in time.
MODE_LINES = {
    "off": "No check: a printed photo or a phone screen showing an enrolled face is let in. Adds no time.",
    "passive": "A model the site provides judges each recognised face for the texture of paper or a screen; "
    f"nobody is asked to move. It {_PASSIVE_COST}.",
    "active": "A recognised person is asked to turn their head left or right, which a flat photo "
    f"cannot do. It {_ACTIVE_COST}.",
    "both": f"The head turn and the model must both pass: the turn {_ACTIVE_COST}, and the model {_PASSIVE_COST}.",
}
NOD_CHOICE = "Offer a nod instead, for people who cannot turn their head"
NOD_RISK = (
    "A printed photo tilted back and forth passes a nod more often than a turn (docs/liveness.md): "
    "offer it where someone needs it."
)
MODELS_HINT = (
    "A folder with the site's two model files, MiniFASNetV2 and MiniFASNetV1SE (.pth, named as Minivision "
    "releases them); FaceGuard never downloads them. The passive and both modes need it."
)


class LivenessGroup(QGroupBox):
    """The liveness fields of KioskSettings, with the selected mode's options enabled."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(TITLE, parent)
        self.mode = QComboBox()
        for mode in LIVENESS_MODES:
            self.mode.addItem(MODE_NAMES[mode], mode)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(1.0, 30.0)
        self.timeout.setDecimals(1)
        self.timeout.setSuffix(" s")
        self.both_ways = QCheckBox("Ask for both sides: after the first turn, a turn to the other side")
        self.nod = QCheckBox(NOD_CHOICE)
        self.nod.setToolTip(NOD_RISK)
        self.models = QLineEdit()
        self.models.setPlaceholderText("Folder of the passive model files")
        self.browse = QPushButton("Browse…")
        self.models_hint = QLabel(MODELS_HINT)
        self.models_hint.setWordWrap(True)
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.01, 0.99)
        self.threshold.setDecimals(2)
        self.threshold.setSingleStep(0.05)
        for spin in (self.timeout, self.threshold):
            spin.setMaximumWidth(140)

        models_row = QHBoxLayout()
        models_row.addWidget(self.models, 1)
        models_row.addWidget(self.browse)
        form = QFormLayout(self)
        form.addRow("Check", self.mode)
        form.addRow("", self.explanation)
        form.addRow("Answer within", self.timeout)
        form.addRow("", self.both_ways)
        form.addRow("", self.nod)
        form.addRow("Passive model", models_row)
        form.addRow("", self.models_hint)
        form.addRow("Live score at least", self.threshold)
        form.addRow("", QLabel("A face whose mean live score stays below this is refused as a photo or a screen."))

        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.browse.clicked.connect(self._choose_models)
        self._mode_changed()

    def show_settings(self, settings: KioskSettings) -> None:
        self.mode.setCurrentIndex(max(self.mode.findData(settings.liveness), 0))
        self.timeout.setValue(settings.liveness_timeout)
        self.both_ways.setChecked(settings.liveness_both_ways)
        self.nod.setChecked(settings.liveness_nod)
        self.models.setText(settings.liveness_models)
        self.threshold.setValue(settings.live_threshold)
        self._mode_changed()

    def values(self) -> dict[str, Any]:
        """The KioskSettings fields as entered."""
        return {
            "liveness": self.mode.currentData(),
            "liveness_timeout": self.timeout.value(),
            "liveness_both_ways": self.both_ways.isChecked(),
            "liveness_nod": self.nod.isChecked(),
            "liveness_models": self.models.text().strip(),
            "live_threshold": self.threshold.value(),
        }

    def _mode_changed(self) -> None:
        selected = self.mode.currentData()
        lines = [
            f"<b>{escape(MODE_NAMES[mode])}</b>: {escape(MODE_LINES[mode])}"
            if mode == selected
            else f"{escape(MODE_NAMES[mode])}: {escape(MODE_LINES[mode])}"
            for mode in LIVENESS_MODES
        ]
        self.explanation.setText("<br>".join(lines))
        mode = LivenessMode(selected)
        active: tuple[QWidget, ...] = (self.timeout, self.both_ways, self.nod)
        passive: tuple[QWidget, ...] = (self.models, self.browse, self.threshold)
        for widgets, used in ((active, mode.active), (passive, mode.passive)):
            for widget in widgets:
                widget.setEnabled(used)

    def _choose_models(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of the passive liveness models", self.models.text())
        if folder:
            self.models.setText(folder)
