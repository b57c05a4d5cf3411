"""Make the README's screenshots from the real windows, on the demo photos and a fresh demo database.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots/make_screenshots.py

(or under Xvfb: ``xvfb-run .venv/bin/python docs/screenshots/make_screenshots.py``). Writes
kiosk-granted.png, kiosk-denied.png, kiosk-challenge.png, kiosk-photo-refused.png, wizard-check.png, wizard-no-face.png, wizard-details.png,
admin-people.png, admin-log.png and admin-settings.png next to this script.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QDeadlineTimer, QEventLoop, QThread
from PySide6.QtWidgets import QApplication, QWidget, QWizard

from faceguard.gui.admin.window import AdminWindow
from faceguard.gui.admin.wizard import EnrollmentWizard
from faceguard.gui.app import application
from faceguard.gui.pipeline_loader import EngineLoader
from faceguard.gui.kiosk import KioskWindow
from dataclasses import replace

from faceguard.access.liveness import LivenessMode, Move
from faceguard.app.kiosk.banner import Screen
from faceguard.app.kiosk.demo import demo_settings, enroll_demo_people
from faceguard.app.liveness_bench import read_portrait
from faceguard.evaluation.liveness_sequences import START, PlaneAttack, PresentationKind, write_video
from faceguard.core.paths import DEMO_PHOTOS
from faceguard.store.repository import Store
from faceguard.vision.pipeline import FacePipeline

OUT = Path(__file__).parent
TESTS = Path(__file__).parents[2] / "tests" / "data"


def wait_until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = QDeadlineTimer(int(seconds * 1000))
    while not condition():
        if deadline.hasExpired():
            raise TimeoutError("the window did not reach the state to photograph")
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        QThread.msleep(20)


def save(widget: QWidget, name: str) -> None:
    QApplication.processEvents()
    widget.grab().save(str(OUT / name))
    print("wrote", OUT / name)


def kiosk_shots(db: Path, pipeline: FacePipeline) -> None:
    window = KioskWindow(db, demo_settings(), demo=True, pipeline=pipeline, prepare=enroll_demo_people)
    window.resize(1024, 720)
    window.show()
    window.start()
    wanted = {"kiosk-granted.png": (Screen.GRANTED, "Barack Obama"), "kiosk-denied.png": (Screen.DENIED, "Unknown face")}
    for name, (screen, detail) in wanted.items():
        wait_until(lambda: window.current_banner.screen is screen and window.current_banner.detail == detail
                   and bool(window.video.faces))
        save(window, name)
    window.close()


def liveness_shots(folder: Path, pipeline: FacePipeline) -> None:
    """A printed photo of an enrolled person (obama2.jpg; obama.jpg is enrolled) held up at the door,
    tilting and turning to the left: the kiosk's challenge over it, then the refusal."""
    portrait = read_portrait(pipeline, DEMO_PHOTOS / "obama2.jpg", DEMO_PHOTOS)
    assert portrait is not None
    attack = PlaneAttack(PresentationKind.PRINT_PLANE, portrait, seed=3, seconds=20.0)
    attack.answer(Move.TURN_LEFT, START + 1.5)
    video = write_video(attack, folder / "print-attack.avi")
    settings = replace(demo_settings(), camera=str(video))
    window = KioskWindow(
        folder / "liveness.db", settings, pipeline=pipeline, prepare=enroll_demo_people,
        forced_liveness=LivenessMode.ACTIVE.value,
    )
    window.resize(1024, 720)
    window.show()
    window.start()
    prompt = window.challenge_prompt
    wait_until(lambda: prompt.challenge is not None and prompt.challenge.seconds_left < 3.5 and bool(window.video.faces))
    save(window, "kiosk-challenge.png")
    wait_until(lambda: window.current_banner.screen is Screen.DENIED and "Liveness" in window.current_banner.detail)
    save(window, "kiosk-photo-refused.png")
    window.close()


def wizard_shots(store: Store, pipeline: FacePipeline) -> None:
    wizard = EnrollmentWizard(store, EngineLoader.loaded(pipeline), demo_settings())
    wizard.show()
    source, check = wizard.source_page, wizard.check_page
    for photo, name in [(TESTS / "coffee.jpg", "wizard-no-face.png"), (DEMO_PHOTOS / "collins.png", "wizard-check.png")]:
        source.path_edit.setText(str(photo))
        source.path_edit.textEdited.emit(str(photo))
        wizard.next()
        wait_until(lambda: check.isComplete() or check.retry_button.isVisible())
        save(wizard, name)
        wizard.back()
    wizard.next()
    wait_until(check.isComplete)
    wizard.next()
    details = wizard.details_page
    details.name_edit.setText("Eileen Collins")
    details.badge_edit.setText("NASA-1")
    details.consent_check.setChecked(True)
    save(wizard, "wizard-details.png")
    wizard.close()


def admin_shots(store: Store, pipeline: FacePipeline) -> None:
    window = AdminWindow(store, EngineLoader.loaded(pipeline), demo_settings())
    window.resize(1100, 680)
    window.show()
    save(window, "admin-people.png")
    window.tabs.setCurrentWidget(window.access_log)
    window.access_log.poll()
    window.access_log.table.selectRow(0)
    save(window, "admin-log.png")
    window.tabs.setCurrentIndex(2)
    save(window, "admin-settings.png")
    window.close()


def main() -> None:
    app = application()
    app.setStyle("Fusion")
    pipeline = FacePipeline.load(device="cpu")
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "demo.db"
        kiosk_shots(db, pipeline)
        liveness_shots(Path(folder), pipeline)
        with Store.open(db) as store:
            wizard_shots(store, pipeline)
            admin_shots(store, pipeline)


if __name__ == "__main__":
    main()
