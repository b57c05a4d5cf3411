"""The sealed gallery snapshot: a start-up opens one value instead of one per template, gets exactly the
gallery a full load gives, and never keeps face data that was erased or sealed under a retired key."""

from __future__ import annotations

import sqlite3
import time

import numpy as np
import pytest

from faceguard.store import keys
from faceguard.store.gallery_snapshot import GallerySnapshot
from faceguard.store.live_gallery import LiveGallery
from faceguard.store.repository import Store
from tests.store_helpers import DIM, MODEL, new_template


def enroll_people(store: Store, count: int, rng: np.random.Generator) -> list[int]:
    return [store.enroll(f"Person {i}", new_template(rng)).id for i in range(count)]


def snapshot_row(store: Store) -> tuple[int, int, bytes] | None:
    return store.db.execute("SELECT seq, count, data FROM gallery_snapshots WHERE model_id = ?", [MODEL]).fetchone()


def assert_same_gallery(live: LiveGallery, store: Store) -> None:
    """``live`` holds exactly the model's templates in the file: every one is found as its person at distance 0."""
    ids, encodings = store.load_encodings(MODEL)
    assert len(live) == len(ids) and live.gallery.identities == set(ids.tolist())
    matches = live.identify(encodings, threshold=0.5)
    assert [match.identity for match in matches] == ids.tolist()
    assert max(match.distance for match in matches) < 1e-3


def test_a_full_load_saves_a_sealed_snapshot_and_the_next_start_loads_the_same_gallery_from_it(store):
    rng = np.random.default_rng(1)
    enroll_people(store, 30, rng)
    assert snapshot_row(store) is None

    first = LiveGallery.load(store, MODEL, DIM)
    seq, count, data = snapshot_row(store)
    assert (seq, count) == (store.last_change(), 30)
    _, encodings = store.load_encodings(MODEL)
    assert encodings[0].astype("<f4").tobytes() not in data  # sealed, not plain float32

    second = LiveGallery.load(store, MODEL, DIM)
    assert_same_gallery(first, store)
    assert_same_gallery(second, store)


def test_people_changed_after_the_snapshot_are_reloaded_from_their_rows(store, tmp_path):
    rng = np.random.default_rng(2)
    ids = enroll_people(store, 10, rng)
    LiveGallery.load(store, MODEL, DIM)
    saved = snapshot_row(store)

    with Store.open(tmp_path / "faceguard.db") as admin:  # the admin, in another connection
        newcomer = admin.enroll("Newcomer", new_template(rng)).id
        admin.add_template(ids[3], new_template(rng))
        admin.set_active(ids[4], False)

    live = LiveGallery.load(store, MODEL, DIM)
    assert snapshot_row(store) == saved  # a few changes are applied, not worth a new snapshot
    assert_same_gallery(live, store)
    assert newcomer in live.gallery.identities and len(live) == 12
    assert live.status_of(ids[4]).active is False
    assert live.refresh() == frozenset()  # it starts from the last change


def test_deleting_any_template_drops_the_snapshot_in_the_same_transaction(store):
    rng = np.random.default_rng(3)
    ids = enroll_people(store, 5, rng)
    LiveGallery.load(store, MODEL, DIM)
    data = snapshot_row(store)[2]

    store.remove_person(ids[0])  # erasure: secure_delete zeroes the pages, the WAL is truncated
    assert snapshot_row(store) is None
    assert data not in store.path.read_bytes()
    live = LiveGallery.load(store, MODEL, DIM)
    assert ids[0] not in live.gallery.identities
    assert_same_gallery(live, store)
    assert snapshot_row(store)[1] == 4


def test_a_snapshot_is_not_saved_when_the_templates_changed_after_its_position(store):
    rng = np.random.default_rng(4)
    enroll_people(store, 3, rng)
    seq = store.last_change()
    ids, encodings = store.load_encodings(MODEL)
    store.enroll("Enrolled meanwhile", new_template(rng))
    assert not store.save_gallery_snapshot(MODEL, GallerySnapshot(seq, ids, encodings))
    assert snapshot_row(store) is None


@pytest.mark.parametrize("damage", ["altered byte", "moved to another position"])
def test_a_snapshot_that_does_not_open_is_ignored_and_replaced(store, damage):
    rng = np.random.default_rng(5)
    enroll_people(store, 6, rng)
    LiveGallery.load(store, MODEL, DIM)
    seq, count, data = snapshot_row(store)
    if damage == "altered byte":
        data = data[:-1] + bytes([data[-1] ^ 1])
    else:
        seq -= 1  # the associated data names the position: an old snapshot cannot pass for a new one
    store.db.execute("UPDATE gallery_snapshots SET seq = ?, data = ?", [seq, data])

    assert store.gallery_snapshot(MODEL, DIM) is None
    live = LiveGallery.load(store, MODEL, DIM)
    assert_same_gallery(live, store)
    assert snapshot_row(store)[0] == store.last_change() and store.gallery_snapshot(MODEL, DIM) is not None


def test_rotating_the_key_drops_the_snapshot_sealed_with_the_old_one(store, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # a kiosk's key folder, not the tests' key
    monkeypatch.delenv(keys.KEY_ENV)
    with Store.open(tmp_path / "rotated.db") as rotated:
        enroll_people(rotated, 4, np.random.default_rng(6))
        LiveGallery.load(rotated, MODEL, DIM)
        rotated.rotate_key()
        assert snapshot_row(rotated) is None
        assert_same_gallery(LiveGallery.load(rotated, MODEL, DIM), rotated)
        assert rotated.gallery_snapshot(MODEL, DIM) is not None


def test_a_gallery_loads_without_saving_its_snapshot_while_another_program_holds_the_write_lock(store, db_path):
    enroll_people(store, 3, np.random.default_rng(7))
    other = sqlite3.connect(db_path)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        live = LiveGallery.load(store, MODEL, DIM)
        assert time.monotonic() - started < 5  # not the 10 s a change would wait
        assert_same_gallery(live, store)
    finally:
        other.rollback()
        other.close()
    assert snapshot_row(store) is None
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000  # the connection's own wait is back
