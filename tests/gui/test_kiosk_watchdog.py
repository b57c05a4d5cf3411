"""The kiosk's watchdog on the real window, engine and database: a stuck camera and a failing engine are
restarted and the screen says so; an access event the failed engine could not write is written by the next."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest

import faceguard.gui.kiosk as kiosk_module
from faceguard.app.enrollment import enroll_photo
from faceguard.app.kiosk.banner import Screen
from faceguard.app.kiosk.pending import spill_path
from faceguard.app.kiosk.session import KioskEngine
from faceguard.app.settings import KioskSettings
from faceguard.gui.kiosk import KioskWindow
from faceguard.store.chain_audit import verify_chain
from faceguard.store.repository import Store
from faceguard.store.timestamps import to_text
from faceguard.vision.camera import FolderSource

DATA = Path(__file__).parents[1] / "data"
TIMEOUT_MS = 30_000


@pytest.fixture
def kiosk(qtbot, tmp_path, pipeline, photo):
    """A started kiosk on a database with Barack Obama enrolled, shown obama2.jpg."""
    db, camera = tmp_path / "kiosk.db", tmp_path / "camera"
    with Store.open(db) as store:
        enroll_photo(store, pipeline, photo("obama.jpg"), "Barack Obama", "obama.jpg")
    camera.mkdir()
    shutil.copy(DATA / "obama2.jpg", camera)

    def start() -> KioskWindow:
        settings = KioskSettings(camera=str(camera), sound=False, liveness="off")
        window = KioskWindow(db, settings, pipeline=pipeline)
        qtbot.addWidget(window)
        window.show()
        window.start()
        return window

    return db, start


def test_stuck_camera_is_restarted_and_said_on_screen(qtbot, kiosk, monkeypatch):
    monkeypatch.setattr(kiosk_module, "CAMERA_STALL", 1.0)
    read, stuck = FolderSource.read, []

    def read_once_stuck(self):
        if not stuck:
            stuck.append(self)
            time.sleep(3.0)  # a driver call that does not return in time
        return read(self)

    monkeypatch.setattr(FolderSource, "read", read_once_stuck)
    _, start = kiosk
    window = start()
    first = window.camera
    qtbot.waitUntil(lambda: "Camera restarted after 1 s without frames." in window.notice.text(), timeout=TIMEOUT_MS)
    assert window.camera is not first and window.watchdog.restarts["Camera"] == 1
    qtbot.waitUntil(lambda: window.current_banner.screen is Screen.GRANTED, timeout=TIMEOUT_MS)


def test_failed_engine_restarts_with_backoff_and_writes_the_events_it_kept(qtbot, kiosk, monkeypatch):
    db, start = kiosk
    process, locks, kept = KioskEngine.process, [], []

    def failing_after_a_decision(self, frame):
        if not locks:  # another program takes the write lock: the decisions cannot be written
            locks.append(sqlite3.connect(db, isolation_level=None, check_same_thread=False))
            locks[0].execute("BEGIN IMMEDIATE")
        result = process(self, frame)
        if result.decisions and locks[0].in_transaction:
            kept.append(result.decisions[0].decision)
            raise RuntimeError("engine bug")
        return result

    monkeypatch.setattr(KioskEngine, "process", failing_after_a_decision)
    window = start()
    qtbot.waitUntil(lambda: window.current_banner.screen is Screen.FAILED, timeout=TIMEOUT_MS)
    assert window.current_banner.detail == "Unexpected error (RuntimeError): engine bug Restarting in 1 s."
    assert len(window.pending) == 1  # kept for the next engine
    locks[0].execute("COMMIT")
    locks[0].close()
    qtbot.waitUntil(lambda: window.current_banner.screen is not Screen.FAILED, timeout=TIMEOUT_MS)
    assert "Recognition restarted after: Unexpected error (RuntimeError): engine bug" in window.notice.text()
    assert window.watchdog.restarts["Recognition"] == 1
    qtbot.waitUntil(lambda: not window.pending, timeout=TIMEOUT_MS)
    window.close()
    with Store.open(db) as store:
        events = {to_text(event.time): (event.decision, event.person_name) for event in store.events()}
    assert events[to_text(kept[0].time)] == ("granted", "Barack Obama")  # the failed engine's own decision


def test_events_unwritten_at_close_are_sealed_beside_the_database_and_written_by_the_next_kiosk(qtbot, kiosk):
    db, start = kiosk
    window = start()
    lock = sqlite3.connect(db, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # another program holds the log from before the first decision
    try:
        qtbot.waitUntil(lambda: window.current_banner.screen is Screen.GRANTED, timeout=TIMEOUT_MS)
        qtbot.waitUntil(lambda: len(window.pending) >= 1, timeout=TIMEOUT_MS)
        decided = [to_text(event.decision.time) for event in window.pending.events]
        window.shut_down()  # the log is still locked: written neither by the engine nor at close
        spilled = spill_path(db)
        content = spilled.read_bytes()
        assert spilled.stat().st_mode & 0o777 == 0o600
        assert b"Barack" not in content and b"\xff\xd8\xff" not in content and b"granted" not in content  # sealed
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    with Store.open(db) as store:
        assert store.events() == []

    second = start()  # the next kiosk on this file takes them back and writes them with their own times
    assert not spilled.exists()
    qtbot.waitUntil(lambda: not second.pending, timeout=TIMEOUT_MS)
    second.shut_down()
    with Store.open(db) as store:
        logged = {to_text(event.time): (event.decision, event.person_name) for event in store.events()}
        assert verify_chain(store.db, db).intact
    assert all(logged[time] == ("granted", "Barack Obama") for time in decided)
    assert not spilled.exists()
