"""The access events a kiosk could not write survive its close: written at close when the log is free,
else sealed beside the database and written by the next kiosk, in order and with their own times."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

import faceguard.app.kiosk.pending as pending_module
from faceguard.access.policy import Decision, Outcome, PersonStatus
from faceguard.app.kiosk.pending import PendingEvents, UnwrittenEvent, spill_path
from faceguard.store.events import LivenessRecord
from faceguard.store.repository import Store
from tests.store_helpers import MODEL, new_template, tiny_jpeg

START = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def events(person: PersonStatus, count: int, rng) -> list[UnwrittenEvent]:
    decisions = [
        Decision(Outcome.GRANTED, START + timedelta(seconds=i), 7, person, 0.31, 0.6, f"Access granted: {person.name}.")
        if i % 2 == 0
        else Decision(Outcome.UNKNOWN, START + timedelta(seconds=i), 8, None, 0.9, 0.6, "Unknown face.")
        for i in range(count)
    ]
    liveness = LivenessRecord("active", True, None, 0.25)
    return [
        UnwrittenEvent(decision, "Front", MODEL, 80.0 + i, tiny_jpeg(rng), liveness, "Door unlocked for 4 s.")
        for i, decision in enumerate(decisions)
    ]


@pytest.fixture
def queued(store, rng):
    person = store.enroll("Ada Lovelace", new_template(rng))
    status = PersonStatus(person.id, person.name, True, None, None)
    pending = PendingEvents()
    for event in events(status, 5, rng):
        pending.add(event)
    return pending, [event.decision for event in pending.events]


@pytest.fixture
def rng():
    return np.random.default_rng(3)


def logged(store: Store) -> list[tuple]:
    return [
        (e.time, e.decision, e.person_name, e.message, e.door, e.door_action, e.liveness)
        for e in sorted(store.events(), key=lambda e: e.time)
    ]


def expected(decisions: list[Decision]) -> list[tuple]:
    return [
        (
            d.time,
            d.decision,
            d.person.name if d.person else None,
            d.message,
            "Front",
            "Door unlocked for 4 s.",
            "active",
        )
        for d in decisions
    ]


def test_a_free_log_takes_the_events_at_close_and_nothing_is_spilled(store, db_path, queued):
    pending, decisions = queued
    assert pending.keep(db_path) is None
    assert not pending and not spill_path(db_path).exists()
    assert logged(store) == expected(decisions)


def test_a_missing_database_gets_the_events_sealed_beside_it_and_the_next_kiosk_writes_them(
    store, db_path, queued, tmp_path
):
    pending, decisions = queued
    store.close()
    away = tmp_path / "moved-away.db"
    db_path.rename(away)
    spilled = pending.keep(db_path)
    assert spilled == spill_path(db_path) and spilled.stat().st_mode & 0o777 == 0o600
    assert b"Ada" not in spilled.read_bytes() and b"Front" not in spilled.read_bytes()
    away.rename(db_path)

    restored = PendingEvents.restored(db_path)
    assert len(restored) == 5 and not spilled.exists()
    with Store.open(db_path) as reopened:
        with restored.lock:
            assert restored.write(reopened) is None
        assert logged(reopened) == expected(decisions)
        snapshots = [reopened.event_snapshot(event.id) for event in reopened.events()]
        assert all(snapshot and snapshot.startswith(b"\xff\xd8\xff") for snapshot in snapshots)


def test_a_second_close_adds_to_the_events_already_spilled(store, db_path, queued, rng):
    pending, decisions = queued
    status = PersonStatus(1, "Ada Lovelace", True, None, None)
    store.close()
    db_path.rename(db_path.with_name("away.db"))
    pending.keep(db_path)
    more = PendingEvents()
    for event in events(status, 2, rng):
        more.add(replace(event, decision=replace(event.decision, time=event.decision.time + timedelta(hours=1))))
    later = [event.decision for event in more.events]
    more.keep(db_path)
    assert [event.decision for event in PendingEvents.restored(db_path).events] == decisions + later


def test_a_spill_file_that_does_not_open_is_kept_and_said(store, db_path, queued, caplog):
    pending, _ = queued
    store.close()
    db_path.rename(db_path.with_name("away.db"))
    spilled = pending.keep(db_path)
    content = bytearray(spilled.read_bytes())
    content[-10] ^= 1  # inside the base64 of the sealed events
    spilled.write_bytes(bytes(content))
    with caplog.at_level(logging.ERROR):
        restored = PendingEvents.restored(db_path)
    assert not restored and spilled.exists()
    assert f"The unwritten access events in {spilled} cannot be read" in caplog.text


def test_a_queue_held_by_a_stuck_engine_is_given_up_at_close(db_path, queued, monkeypatch, caplog):
    pending, _ = queued
    monkeypatch.setattr(pending_module, "CLOSE_WAIT_MS", 50)
    pending.lock.acquire()
    with caplog.at_level(logging.ERROR):
        assert pending.keep(db_path) is None
    assert "5 access event(s) are held by a stuck engine and are lost at close." in caplog.text


def test_a_close_beside_a_spill_file_that_does_not_open_moves_it_aside_and_keeps_its_own(store, db_path, queued):
    pending, decisions = queued
    store.close()
    db_path.rename(db_path.with_name("away.db"))
    spill_path(db_path).write_text('{"format": 1, "key_id": "0000", "sealed": "AAAA"}')  # another computer's
    kept = pending.keep(db_path)
    aside = list(db_path.parent.glob("faceguard.db.unwritten.*.unreadable"))
    assert kept == spill_path(db_path) and len(aside) == 1 and "0000" in aside[0].read_text()
    assert [event.decision for event in PendingEvents.restored(db_path).events] == decisions
