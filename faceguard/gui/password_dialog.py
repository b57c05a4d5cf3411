"""The admin password dialog: asked before the admin window opens and before the kiosk closes or leaves
full screen; on a database without one it asks to choose one (typed twice).

A wrong password keeps the dialog open with the field cleared and OK disabled, counting down the wait
the failures impose (``faceguard.app.admin_password``); Cancel gives up.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from faceguard.app.admin_password import MIN_LENGTH, AdminPassword, Verdict
from faceguard.core.errors import FaceGuardError
from faceguard.gui.tasks import error_text


class PasswordDialog(QDialog):
    """Ask for the admin password to ``purpose`` (e.g. "close the kiosk"); a wrong one is logged as typed
    at ``where``. Accepted once the right password is given, or a new one is set."""

    def __init__(self, password: AdminPassword, purpose: str, where: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.password, self.where = password, where
        self.choosing = not password.is_set
        self.setWindowTitle("Choose the admin password" if self.choosing else "Admin password")
        self.setModal(True)
        self.field = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.repeat = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.message = QLabel()
        self.message.setObjectName("error")
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        if self.choosing:
            intro = (
                f"No admin password protects this database yet. Choose one to {purpose}: at least {MIN_LENGTH} "
                "characters (a few words make a good one). It will be needed to open the admin window, to change "
                "people or settings from the command line and to close the kiosk."
            )
            form.addRow("New password", self.field)
            form.addRow("The same again", self.repeat)
        else:
            intro = f"Enter the admin password to {purpose}."
            form.addRow("Password", self.field)
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.timer = QTimer(self, interval=250)
        self.timer.timeout.connect(self._count_down)
        self._wrong = ""
        self._count_down()

    def accept(self) -> None:
        try:
            if self.choosing:
                self.password.set(self.field.text(), self.repeat.text())
            else:
                verdict = self.password.check(self.field.text(), self.where)
                if verdict is not Verdict.ACCEPTED:
                    self._refused(verdict)
                    return
        except FaceGuardError as error:
            self.message.setText(error_text(error))
            return
        super().accept()

    def _refused(self, verdict: Verdict) -> None:
        self.field.clear()
        if verdict is Verdict.WRONG:
            self._wrong = f"Wrong password ({self.password.failures()} in a row)."
        self._count_down()

    def _count_down(self) -> None:
        """OK is enabled once the wait earlier failures impose is over; until then the message counts down."""
        try:
            wait = 0.0 if self.choosing else self.password.wait()
        except FaceGuardError as error:
            self.message.setText(error_text(error))
            return
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(wait <= 0)
        if wait > 0:
            self.message.setText(f"{self._wrong} Try again in {math.ceil(wait)} s.".strip())
            self.timer.start()
        else:
            self.message.setText(self._wrong)
            self.timer.stop()


def admin_unlocked(password: AdminPassword, purpose: str, where: str, parent: QWidget | None = None) -> bool:
    """Whether the admin gave the password to ``purpose`` (or chose the first one)."""
    return PasswordDialog(password, purpose, where, parent).exec() == QDialog.DialogCode.Accepted
