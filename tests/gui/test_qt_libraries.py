"""A system library Qt's xcb plugin needs is missing: the kiosk and the admin window say in one line
which Debian package to install, before Qt loads (Qt would abort with a plugin error)."""

from __future__ import annotations

import pytest

import faceguard.gui.app
from faceguard.cli import gui as cli_gui
from faceguard.cli import main

X11 = {"DISPLAY": ":99"}


@pytest.fixture
def a_missing_library(monkeypatch):
    libraries = {**cli_gui.XCB_LIBRARIES, "libfaceguard-missing.so.7": "libfaceguard-missing7"}
    monkeypatch.setattr(cli_gui, "XCB_LIBRARIES", libraries)


@pytest.mark.parametrize(
    ("environ", "xcb"),
    [
        (X11, True),
        ({**X11, "QT_QPA_PLATFORM": "xcb"}, True),
        ({**X11, "QT_QPA_PLATFORM": "xcb:foo"}, True),
        ({**X11, "QT_QPA_PLATFORM": "offscreen"}, False),
        ({**X11, "QT_QPA_PLATFORM": "wayland;xcb"}, False),
        ({**X11, "WAYLAND_DISPLAY": "wayland-0"}, False),  # Qt tries its wayland plugin first
        ({**X11, "XDG_SESSION_TYPE": "wayland"}, False),
        ({**X11, "XDG_SESSION_TYPE": "x11"}, True),
        ({"QT_QPA_PLATFORM": "xcb"}, False),  # no display: Qt fails for that reason, and says so
        ({}, False),
    ],
)
def test_the_libraries_are_checked_only_when_qt_will_use_xcb(environ, xcb, a_missing_library):
    assert cli_gui.uses_xcb(environ) is xcb
    assert cli_gui.missing_qt_packages(environ) == (["libfaceguard-missing7"] if xcb else [])


def test_the_libraries_qt_needs_are_installed_here():
    assert cli_gui.missing_qt_packages(X11) == []


@pytest.mark.parametrize("command", ["kiosk", "admin"])
def test_a_missing_library_is_one_line_naming_its_package(command, a_missing_library, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")

    def no_window():
        raise AssertionError("Qt was started although a library it needs is missing")

    monkeypatch.setattr(faceguard.gui.app, "application", no_window)
    db = tmp_path / "faceguard.db"
    assert main([command, "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert err.rstrip().endswith("Install them with: sudo apt-get install libfaceguard-missing7")
    assert not db.exists()  # nothing was done before the check
