"""``faceguard kiosk`` and ``faceguard admin``: the desktop windows."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import Any

from faceguard.app.settings import load_settings
from faceguard.cli.common import open_store


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
    kiosk.add_argument("--demo", action="store_true", help="run the demo: sample photos and a fresh demo database")
    kiosk.add_argument("--fullscreen", action="store_true", help="fill the screen (F11 toggles, Esc leaves)")
    kiosk.set_defaults(run=run_kiosk)

    admin = commands.add_parser(
        "admin", parents=[database], help="the admin window: people, enrollment, access log, settings"
    )
    admin.set_defaults(run=run_admin)


def run_kiosk(args: argparse.Namespace) -> int:
    from faceguard.app.kiosk.demo import demo_database, demo_settings, enroll_demo_people, reset_demo_database
    from faceguard.gui.app import application, close_on_interrupt
    from faceguard.gui.kiosk import KioskWindow
    from faceguard.vision.camera import can_open

    with open_store(args, create=True) as store:
        settings = load_settings(store)
    if args.camera:
        settings = replace(settings, camera=args.camera)
    db_path, prepare, demo = args.db, None, args.demo
    if not demo and not args.camera and not can_open(settings.camera):
        print(f"No camera at '{settings.camera}': starting the DEMO (use --camera to choose one).", file=sys.stderr)
        demo = True
    if demo:
        db_path, settings, prepare = demo_database(), demo_settings(), enroll_demo_people
        reset_demo_database(db_path)
        print(f"DEMO database: {db_path} (open it with: faceguard admin --db {db_path})", file=sys.stderr)
    app = application()
    window = KioskWindow(db_path, settings, demo=demo, prepare=prepare)
    window.showFullScreen() if args.fullscreen else window.show()
    close_on_interrupt(window)
    window.start()
    return app.exec()


def run_admin(args: argparse.Namespace) -> int:
    from faceguard.gui.admin.window import AdminWindow
    from faceguard.gui.app import application, close_on_interrupt
    from faceguard.gui.pipeline_loader import EngineLoader

    app = application()
    with open_store(args, create=True) as store:
        settings = load_settings(store)
        engine = EngineLoader()
        engine.start(settings)
        window = AdminWindow(store, engine, settings)
        window.show()
        close_on_interrupt(window)
        return app.exec()
