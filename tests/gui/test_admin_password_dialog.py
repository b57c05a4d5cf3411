"""The admin password dialog where it guards: ``faceguard admin`` opens nothing without the password
(and asks to choose one on a new database), and the kiosk at a site does not leave full screen or close
without it. Real modal dialogs on a real database file; each is answered as a person would type."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

import faceguard.gui.app
from faceguard.app.admin_password import AdminPassword
from faceguard.app.settings import KioskSettings
from faceguard.cli import main
from faceguard.gui.admin.window import AdminWindow
from faceguard.gui.kiosk import KioskWindow
from faceguard.gui.password_dialog import PasswordDialog
from faceguard.gui.pipeline_loader import EngineLoader
from faceguard.store.repository import Store
from tests.conftest import ADMIN_PASSWORD
from tests.store_helpers import new_template

WRONG = "not the password"


@dataclass
class Shown:
    """What one dialog showed: its title and text, and after each entry its message and whether OK was
    enabled and the dialog still open."""

    title: str
    text: str
    after: list[tuple[str, bool, bool]]


class Answers:
    """Answer the password dialogs, in order, once each is shown modally: a reply is the entries to type
    (a password, or a (new, repeat) pair when choosing one) each followed by OK, then Cancel if the dialog
    is still open; a dialog nobody expected is cancelled and recorded as ``None``."""

    def __init__(self, monkeypatch) -> None:
        self.replies: list[list] = []
        self.shown: list[Shown | None] = []
        real_exec = PasswordDialog.exec

        def exec_(dialog: PasswordDialog) -> int:
            QTimer.singleShot(0, lambda: self._answer(dialog))
            return real_exec(dialog)

        monkeypatch.setattr(PasswordDialog, "exec", exec_)

    def expect(self, *replies: list) -> Answers:
        self.replies.extend(replies)
        return self

    def _answer(self, dialog: PasswordDialog) -> None:
        if not self.replies:
            self.shown.append(None)
            dialog.reject()
            return
        assert QApplication.activeModalWidget() is dialog
        shown = Shown(dialog.windowTitle(), dialog.intro.text(), [])
        self.shown.append(shown)
        ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        for entry in self.replies.pop(0):
            new, repeat = entry if isinstance(entry, tuple) else (entry, entry)
            dialog.field.setText(new)
            dialog.repeat.setText(repeat)
            ok.click()
            shown.after.append((dialog.message.text(), ok.isEnabled(), dialog.isVisible()))
        if dialog.isVisible():
            dialog.reject()


@pytest.fixture
def answers(monkeypatch):
    return Answers(monkeypatch)


@pytest.fixture
def site(tmp_path):
    """A site's database: Ada enrolled, the admin password ADMIN_PASSWORD."""
    path = tmp_path / "site.db"
    with Store.open(path) as store:
        store.enroll("Ada Lovelace", new_template(np.random.default_rng(0)), badge="1")
        AdminPassword(store).set(ADMIN_PASSWORD, ADMIN_PASSWORD)
    return path


def failed_logins(path) -> list[dict]:
    with Store.open(path) as store:
        rows = store.db.execute("SELECT details FROM admin_events WHERE action = 'admin_login_failed'").fetchall()
    return [json.loads(details) for (details,) in rows]


def admin_windows() -> list[AdminWindow]:
    return [widget for widget in QApplication.topLevelWidgets() if isinstance(widget, AdminWindow)]


@pytest.fixture
def admin_command(monkeypatch):
    """``faceguard admin`` in this process: the engine is not loaded, Ctrl-C is left alone, and an admin
    window that opens is recorded and closed, so ``app.exec()`` returns."""
    monkeypatch.setattr(EngineLoader, "start", lambda self, settings: None)
    monkeypatch.setattr(faceguard.gui.app, "close_on_interrupt", lambda window: None)
    opened: list[bool] = []
    watching = [True]

    def close_when_shown() -> None:
        windows = [window for window in admin_windows() if window.isVisible()]
        if windows:
            opened.append(True)
            windows[0].close()
        elif watching[0]:
            QTimer.singleShot(20, close_when_shown)

    def run(*argv: str) -> tuple[int, list[bool]]:
        QTimer.singleShot(0, close_when_shown)
        return main(["admin", *argv]), opened

    yield run
    watching[0] = False


def test_the_admin_window_asks_for_the_password_and_a_wrong_one_opens_nothing(site, answers, admin_command, capsys):
    answers.expect([WRONG])
    code, opened = admin_command("--db", str(site))
    assert code == 11 and "was not opened" in capsys.readouterr().err and opened == []
    (shown,) = answers.shown
    assert shown.title == "Admin password" and "Enter the admin password to open the admin window." in shown.text
    message, ok_enabled, still_open = shown.after[0]
    assert message == "Wrong password (1 in a row). Try again in 1 s." and not ok_enabled and still_open
    assert not admin_windows()
    assert failed_logins(site) == [{"failures": 1, "where": "admin window"}]


def test_the_admin_window_opens_with_the_right_password(site, answers, admin_command):
    answers.expect([ADMIN_PASSWORD])
    code, opened = admin_command("--db", str(site))
    assert code == 0 and opened == [True]
    assert answers.shown[0].after == [("", True, False)]
    assert failed_logins(site) == []


def test_a_new_database_asks_to_choose_a_password_typed_twice(tmp_path, answers, admin_command):
    path = tmp_path / "new.db"
    answers.expect(["short", ("long enough", "long enuogh"), (ADMIN_PASSWORD, ADMIN_PASSWORD)])
    code, opened = admin_command("--db", str(path))
    assert code == 0 and opened == [True]
    (shown,) = answers.shown
    assert shown.title == "Choose the admin password" and "at least 8 characters" in shown.text
    assert [message for message, _, _ in shown.after[:2]] == [
        "The admin password must have at least 8 characters (a passphrase of a few words is best).",
        "The two entries of the new admin password differ; type the same password twice.",
    ]
    assert shown.after[2][2] is False  # accepted
    with Store.open(path) as store:
        assert AdminPassword(store).check(ADMIN_PASSWORD, "test").value == "accepted"


# --- the kiosk ----------------------------------------------------------------------------------------


@pytest.fixture
def kiosk(qtbot, tmp_path):
    """A full-screen kiosk window guarded by a database (workers not started: only the window is tested);
    closed at the end with ``shut_down``, as Ctrl-C does."""
    windows: list[KioskWindow] = []

    def open_kiosk(admin_db) -> KioskWindow:
        window = KioskWindow(tmp_path / "kiosk.db", KioskSettings(camera=str(tmp_path), sound=False), admin_db=admin_db)
        windows.append(window)
        qtbot.addWidget(window)
        window.showFullScreen()
        return window

    yield open_kiosk
    for window in windows:
        window.shut_down()


def test_the_kiosk_leaves_full_screen_and_closes_only_with_the_password(site, answers, kiosk, qtbot):
    window = kiosk(site)
    answers.expect([], [WRONG])
    qtbot.keyClick(window, Qt.Key.Key_Escape)  # cancelled
    qtbot.keyClick(window, Qt.Key.Key_F11)  # a wrong password
    assert window.isFullScreen()
    assert [shown.text for shown in answers.shown] == ["Enter the admin password to leave full screen."] * 2
    assert answers.shown[1].after[0][0].startswith("Wrong password (1 in a row).")
    assert failed_logins(site) == [{"failures": 1, "where": "kiosk"}]

    with Store.open(site) as store:
        qtbot.waitUntil(lambda: AdminPassword(store).wait() == 0, timeout=3000)
    answers.expect([ADMIN_PASSWORD])
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.isFullScreen()
    qtbot.keyClick(window, Qt.Key.Key_F11)  # into full screen needs nothing
    assert window.isFullScreen() and len(answers.shown) == 3

    answers.expect([])
    window.setWindowState(Qt.WindowState.WindowNoState)  # as a window manager would
    qtbot.waitUntil(lambda: len(answers.shown) == 4)
    qtbot.waitUntil(window.isFullScreen)

    answers.expect([])
    window.close()
    assert window.isVisible() and answers.shown[4].text == "Enter the admin password to close the kiosk."
    window.shut_down()  # Ctrl-C in the terminal
    assert not window.isVisible() and len(answers.shown) == 5


@pytest.mark.parametrize("guarded", [False, True], ids=["demo", "site without a password"])
def test_the_demo_and_a_site_without_a_password_leave_and_close_at_once(tmp_path, answers, kiosk, qtbot, guarded):
    window = kiosk(tmp_path / "kiosk.db" if guarded else None)
    if guarded:
        with Store.open(tmp_path / "kiosk.db"):
            pass
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.isFullScreen()
    window.close()
    assert not window.isVisible() and answers.shown == []
