"""``faceguard kiosk`` and ``faceguard admin``: the desktop windows."""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from faceguard.app.admin_password import AdminPassword
from faceguard.app.settings import LIVENESS_MODES, load_settings
from faceguard.cli.common import open_store
from faceguard.core.errors import AdminPasswordError, FaceGuardError
from faceguard.store.repository import Store

#: The system libraries Qt's xcb platform plugin (libqxcb.so, libQt6XcbQpa.so.6) and QtGui load on
#: Linux, each with the Debian package that ships it (from ldd and dpkg -S on Debian 12). Qt itself only
#: says "could not load the Qt platform plugin xcb" and aborts when one is missing.
XCB_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}


def uses_xcb(environ: Mapping[str, str]) -> bool:
    """Whether Qt will open its windows through the xcb (X11) plugin, as Qt 6 picks its platform on
    Linux: QT_QPA_PLATFORM when set, else X11 when DISPLAY is set, unless a Wayland session comes first."""
    if not sys.platform.startswith("linux") or not environ.get("DISPLAY"):
        return False
    platform = environ.get("QT_QPA_PLATFORM", "").strip()
    if platform:
        return platform.split(";")[0].split(":")[0].strip() == "xcb"
    return not environ.get("WAYLAND_DISPLAY") and environ.get("XDG_SESSION_TYPE") != "wayland"


def missing_qt_packages(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The Debian packages of the xcb libraries the dynamic loader cannot open (none when Qt will not use xcb)."""
    if not uses_xcb(environ):
        return []
    missing = []
    for library, package in XCB_LIBRARIES.items():
        try:
            ctypes.CDLL(library)
        except OSError:
            missing.append(package)
    return missing


def check_qt_libraries() -> None:
    """Before Qt loads: one clear line naming the packages to install, instead of Qt's abort."""
    if packages := missing_qt_packages():
        raise FaceGuardError(
            f"The window cannot open on this X11 display: system libraries Qt needs are missing. "
            f"Install them with: sudo apt-get install {' '.join(packages)}"
        )


def add_gui_commands(commands: Any, database: argparse.ArgumentParser) -> None:
    kiosk = commands.add_parser(
        "kiosk",
        parents=[database],
        help="the door kiosk (starts in DEMO mode with sample photos when no camera is available)",
    )
    kiosk.add_argument(
        "--camera",
        metavar="SOURCE",
        help="webcam number, video file, rtsp:// or http:// URL, or a folder of photos "
        "(default: the camera in the settings)",
    )
    kiosk.add_argument(
        "--liveness",
        choices=LIVENESS_MODES,
        help="the presentation-attack check for this run, whatever the settings say: off, passive (the site's "
        "model), active (a random head turn) or both (default: the settings', active unless changed)",
    )
    kiosk.add_argument("--demo", action="store_true", help="run the demo: sample photos and a fresh demo database")
    kiosk.add_argument(
        "--fullscreen",
        action="store_true",
        help="fill the screen (F11 toggles, Esc leaves; leaving and closing need the admin password, except in "
        "--demo; Ctrl-C in this terminal always stops it)",
    )
    kiosk.set_defaults(run=run_kiosk)

    admin = commands.add_parser(
        "admin",
        parents=[database],
        help="the admin window: people, enrollment, access log, settings (asks for the admin password, or to "
        "choose one on a new database)",
    )
    admin.set_defaults(run=run_admin)


def run_kiosk(args: argparse.Namespace) -> int:
    check_qt_libraries()
    from faceguard.app.kiosk.demo import demo_database, demo_settings, enroll_demo_people, reset_demo_database
    from faceguard.gui.app import application, close_on_interrupt
    from faceguard.gui.kiosk import KioskWindow
    from faceguard.vision.camera import can_open

    with Store.open(args.db, create=True) as store:  # with --site, its replica: the site link keeps it
        settings = load_settings(store)
        protected = AdminPassword(store).is_set
    if args.camera:
        settings = replace(settings, camera=args.camera)
    db_path, prepare, demo = args.db, None, args.demo
    if not demo and not args.camera and not can_open(settings.camera):
        print(f"No camera at '{settings.camera}': starting the DEMO (use --camera to choose one).", file=sys.stderr)
        demo = True
    if not demo and not protected:
        print(
            f"warning: {args.db} has no admin password, so anyone at the kiosk can close it; "
            f"choose one with: faceguard admin-password change --db {args.db}",
            file=sys.stderr,
        )
    if demo:
        db_path, settings, prepare = demo_database(), demo_settings(), enroll_demo_people
        reset_demo_database(db_path)
        print(f"DEMO database: {db_path} (open it with: faceguard admin --db {db_path})", file=sys.stderr)
    app = application()
    if args.liveness:
        settings = replace(settings, liveness=args.liveness)  # checked: passive needs the site's model files
    # The site's password guards the kiosk, also a demo started for want of a camera; --demo asks none.
    admin_db = None if args.demo else args.db
    site_link = None
    if args.site and not demo:
        from faceguard.app.site_link import SiteLink

        site_link = SiteLink(args.site, db_path)
    window = KioskWindow(
        db_path,
        settings,
        demo=demo,
        prepare=prepare,
        forced_liveness=args.liveness,
        admin_db=admin_db,
        site_link=site_link,
    )
    window.showFullScreen() if args.fullscreen else window.show()
    close_on_interrupt(window, window.shut_down)
    window.start()
    return app.exec()


def run_admin(args: argparse.Namespace) -> int:
    check_qt_libraries()
    from faceguard.gui.admin.window import AdminWindow
    from faceguard.gui.app import application, close_on_interrupt
    from faceguard.gui.password_dialog import admin_unlocked
    from faceguard.gui.pipeline_loader import EngineLoader

    app = application()
    with open_store(args, create=True) as store:
        if not admin_unlocked(AdminPassword(store), "open the admin window", "admin window"):
            raise AdminPasswordError(f"The admin window of {args.db} was not opened: no admin password was given.")
        settings = load_settings(store)
        engine = EngineLoader()
        engine.start(settings)
        window = AdminWindow(store, engine, settings)
        window.show()
        close_on_interrupt(window)
        if not args.site:
            return app.exec()
        from faceguard.app.site_link import SiteLink

        link = SiteLink(args.site, args.db)  # other admins' changes and the doors' events, as they come
        link.start()
        try:
            return app.exec()
        finally:
            link.stop()
