"""What the operator sees when the database cannot be used: not a database, read-only, disk full,
locked by another program, damaged. Every failure is a StoreError subclass naming the file, and what
was stored before is intact."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import faceguard.store.db as db_module
from faceguard.core.errors import (
    CorruptDatabaseError,
    DatabaseLockedError,
    DiskFullError,
    NotADatabaseError,
    StoreError,
)
from faceguard.store.repository import Store
from tests.store_helpers import MODEL, SCHEMA_TABLES, new_template, run_worker, start_worker, tiny_jpeg

DATA = Path(__file__).parent / "data"


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def make_store(path: Path, people: int = 3, seed: int = 0) -> list[int]:
    """A realistic small database: people with templates, events with snapshots, a setting."""
    rng = np.random.default_rng(seed)
    with Store.open(path) as store:
        ids = []
        for i in range(people):
            person = store.enroll(f"Person {i}", new_template(rng), badge=f"{1000 + i}")
            store.add_template(person.id, new_template(rng))
            store.log_event("granted", "matched", person_id=person.id, snapshot=tiny_jpeg(rng))
            ids.append(person.id)
        store.set_setting("door", "front")
    return ids


def assert_intact(path: Path, people: int = 3) -> None:
    with Store.open(path) as store:
        assert store.check() == []
        assert [p.name for p in store.people()] == [f"Person {i}" for i in range(people)]
        assert store.counts() == {"people": people, "templates": 2 * people, "access_events": people}
        assert store.get_setting("door") == "front"


# --- not a database --------------------------------------------------------------------------------


@pytest.mark.parametrize("content", ["jpeg", "random", "text", "short"])
def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path, content):
    path = tmp_path / "faceguard.db"
    rng = np.random.default_rng(5)
    data = {
        "jpeg": (DATA / "obama.jpg").read_bytes(),
        "random": rng.integers(0, 256, 20_000, dtype=np.uint8).tobytes(),
        "text": b"name,badge\nAda,1001\n" * 300,
        "short": b"hello",
    }[content]
    path.write_bytes(data)
    with pytest.raises(NotADatabaseError) as raised:
        Store.open(path)
    assert str(path) in str(raised.value)
    assert path.read_bytes() == data
    assert listing(tmp_path) == ["faceguard.db"]


def test_a_folder_is_not_a_database(tmp_path):
    folder = tmp_path / "faceguard.db"
    folder.mkdir()
    with pytest.raises(NotADatabaseError) as raised:
        Store.open(folder)
    assert str(folder) in str(raised.value)
    assert listing(folder) == []


def test_another_applications_sqlite_file_is_refused_and_left_untouched(tmp_path):
    # e.g. --db pointed at a browser's places.sqlite by mistake: FaceGuard must not add its tables to
    # it (nor switch it to WAL), but say it is not a FaceGuard database.
    path = tmp_path / "places.sqlite"
    plain = sqlite3.connect(path)
    with plain:
        plain.execute("CREATE TABLE bookmarks (id INTEGER PRIMARY KEY, url TEXT NOT NULL)")
        plain.execute("INSERT INTO bookmarks (url) VALUES ('https://example.org')")
    plain.close()
    before = path.read_bytes()
    with pytest.raises(NotADatabaseError) as raised:
        Store.open(path).close()
    assert str(path) in str(raised.value)
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["places.sqlite"]


# --- read-only locations ---------------------------------------------------------------------------
# Root ignores permission bits, so the attempt runs in a worker that drops to user nobody first
# (when not root, the worker simply runs as the current user, for whom the chmod applies).


@pytest.fixture
def shared_dir():
    """A temporary folder that user nobody can reach (pytest's tmp_path lives in a 0700 folder)."""
    folder = Path(tempfile.mkdtemp(prefix="faceguard-store-test-"))
    folder.chmod(0o755)
    yield folder
    for directory in [folder, *[p for p in folder.rglob("*") if p.is_dir()]]:
        directory.chmod(0o755)
    shutil.rmtree(folder)


def test_a_new_database_cannot_be_created_in_a_read_only_folder(shared_dir):
    locked = shared_dir / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    report = run_worker("as-nobody", "create", str(locked / "faceguard.db"))
    assert report.get("error") == "ReadOnlyDatabaseError", report
    assert str(locked) in report["message"]
    assert listing(locked) == []


def test_a_new_database_in_a_missing_folder_under_a_read_only_one_is_a_read_only_error(shared_dir):
    locked = shared_dir / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    report = run_worker("as-nobody", "create", str(locked / "faceguard" / "faceguard.db"))
    assert report.get("error") == "ReadOnlyDatabaseError", report  # not a raw PermissionError
    assert str(locked) in report["message"]
    assert listing(locked) == []


def prepare_read_only_file(shared_dir: Path, old_change_log: bool = False) -> Path:
    path = shared_dir / "faceguard.db"
    make_store(path)
    if old_change_log:  # the kiosk has been running for weeks
        plain = sqlite3.connect(path)
        with plain:
            plain.execute("UPDATE changes SET time = '2020-01-01T00:00:00.000Z'")
        plain.close()
    path.chmod(0o444)
    shared_dir.chmod(0o777)  # the folder stays writable: SQLite may put its -wal/-shm files there
    return path


@pytest.mark.parametrize("old_change_log", [False, True], ids=["new", "weeks-old-change-log"])
def test_a_read_only_database_file_can_be_read_but_not_written(shared_dir, old_change_log):
    path = prepare_read_only_file(shared_dir, old_change_log)
    before = path.read_bytes()
    report = run_worker("as-nobody", "read-then-write", str(path))
    assert "error" not in report, report
    assert report["people"] == ["Person 0", "Person 1", "Person 2"]
    assert report["counts"] == {"people": 3, "templates": 6, "access_events": 3}
    assert report["setting"] == "front"
    assert report["write"]["error"] == "ReadOnlyDatabaseError" and str(path) in report["write"]["message"]
    assert report["people_after"] == report["people"]
    assert path.read_bytes() == before
    assert_intact(path)


def test_a_read_only_database_in_a_read_only_folder_fails_cleanly_or_is_readable(shared_dir):
    # SQLite cannot read a WAL-mode file when it can create neither -wal nor -shm next to it; FaceGuard
    # must then say so with a StoreError (or manage to read it), and leave the file alone.
    path = shared_dir / "faceguard.db"
    make_store(path)
    path.chmod(0o444)
    shared_dir.chmod(0o555)
    before = path.read_bytes()
    report = run_worker("as-nobody", "read-then-write", str(path))
    if "error" in report:
        assert report["error"] == "ReadOnlyDatabaseError" and str(path) in report["message"], report
    else:
        assert report["people"] == ["Person 0", "Person 1", "Person 2"]
        assert report["write"]["error"] == "ReadOnlyDatabaseError"
    assert path.read_bytes() == before
    assert listing(shared_dir) == ["faceguard.db"]
    shared_dir.chmod(0o755)
    assert_intact(path)


# --- disk full -------------------------------------------------------------------------------------


def test_a_full_disk_fails_the_change_and_keeps_everything_stored_before(tmp_path):
    path = tmp_path / "faceguard.db"
    make_store(path)
    rng = np.random.default_rng(8)
    big = new_template(rng, thumbnail_size=96)  # a thumbnail larger than a page: the file must grow
    with Store.open(path) as store:
        assert store.db.execute("PRAGMA freelist_count").fetchone()[0] == 0
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        assert store.db.execute(f"PRAGMA max_page_count = {pages}").fetchone()[0] == pages
        with pytest.raises(DiskFullError) as raised:
            store.enroll("Overflow", big, badge="9999")
        assert str(path) in str(raised.value)
        with pytest.raises(DiskFullError):
            store.log_event("unknown", "no-match", snapshot=tiny_jpeg(rng, 96))
        with pytest.raises(DiskFullError):
            store.add_template(1, big)
        # nothing half-written, and the same connection keeps working for reads
        assert store.counts() == {"people": 3, "templates": 6, "access_events": 3}
        assert store.find_person("1000").name == "Person 0"
        assert not store.db.conn.in_transaction
        # space freed: the next change succeeds without reopening
        store.db.execute("PRAGMA max_page_count = 1073741823")
        store.enroll("After", big, badge="9999")
    with Store.open(path) as store:
        assert store.check() == []
        assert [p.name for p in store.people()] == ["After", "Person 0", "Person 1", "Person 2"]
        assert store.counts() == {"people": 4, "templates": 7, "access_events": 3}
        assert store.get_setting("door") == "front"
        assert store.thumbnail(store.templates(store.find_person("9999").id)[0].id).jpeg == big.thumbnail.jpeg


# --- locked by another program ---------------------------------------------------------------------


def test_a_write_lock_held_longer_than_the_busy_timeout_raises_database_locked(tmp_path, monkeypatch):
    path = tmp_path / "faceguard.db"
    make_store(path)
    rng = np.random.default_rng(3)
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 300)
    holder = start_worker("hold-write-lock", str(path))
    try:
        assert holder.stdout.readline().strip() == "locked", holder.stderr.read()
        with Store.open(path) as store:  # opening and reading are not blocked by a writer (WAL)
            assert len(store.people()) == 3
            started = time.monotonic()
            with pytest.raises(DatabaseLockedError) as raised:
                store.enroll("Blocked", new_template(rng))
            waited = time.monotonic() - started
            # it waited for the (patched) busy timeout, then gave up: raised while the lock is still held
            assert waited >= 0.25, waited
            assert str(path) in str(raised.value)
            with pytest.raises(DatabaseLockedError):
                store.log_event("unknown", "no-match")
            with pytest.raises(DatabaseLockedError):
                store.set_active(1, False)
            assert not store.db.conn.in_transaction
            holder.stdin.write("release\n")
            holder.stdin.flush()
            assert holder.stdout.readline().strip() == "released"
            store.enroll("Unblocked", new_template(rng))
            assert store.get_setting("held") == 1
            assert store.counts() == {"people": 4, "templates": 7, "access_events": 3}
            assert store.person(1).active is True
            assert store.check() == []
    finally:
        holder.kill()
        holder.wait()


def test_a_writer_queues_behind_a_short_write_transaction_of_another_program(tmp_path):
    path = tmp_path / "faceguard.db"
    make_store(path)
    holder = start_worker("hold-write-lock", str(path))
    try:
        assert holder.stdout.readline().strip() == "locked", holder.stderr.read()
        with Store.open(path) as store:

            def release():
                holder.stdin.write("release\n")
                holder.stdin.flush()

            timer = threading.Timer(0.5, release)
            timer.start()
            started = time.monotonic()
            store.enroll("Patient", new_template(np.random.default_rng(4)))  # waits, then succeeds
            assert time.monotonic() - started >= 0.4
            timer.join()
            assert store.get_setting("held") == 1 and store.find_person("Patient")
    finally:
        holder.kill()
        holder.wait()


# --- damaged files ---------------------------------------------------------------------------------


def read_everything(path: Path) -> list[str]:
    """Open the file and use every read the kiosk and the admin tools make; returns check()'s problems."""
    with Store.open(path) as store:
        problems = store.check()
        for person in store.people():
            for template in store.templates(person.id):
                store.thumbnail(template.id)
        store.load_encodings(MODEL)
        store.events()
        store.changes_after(0)
        store.get_setting("door")
        store.counts()
        return problems


def assert_reported_as_damaged(path: Path) -> None:
    try:
        problems = read_everything(path)
    except StoreError as error:  # a raw sqlite3.DatabaseError would fail the test here
        assert isinstance(error, (CorruptDatabaseError, NotADatabaseError)), repr(error)
        assert str(path) in str(error)
    else:
        assert problems, "a damaged file was read without any problem reported"


def page_size(path: Path) -> int:
    plain = sqlite3.connect(path)
    try:
        return plain.execute("PRAGMA page_size").fetchone()[0]
    finally:
        plain.close()


def test_a_file_with_a_valid_header_and_garbage_pages_is_reported_as_damaged(tmp_path):
    path = tmp_path / "faceguard.db"
    make_store(path, people=30)
    size = page_size(path)
    data = bytearray(path.read_bytes())
    garbage = bytes(np.random.default_rng(9).integers(0, 256, len(data) - size, dtype=np.uint8))
    data[size:] = garbage
    path.write_bytes(bytes(data))
    with pytest.raises((CorruptDatabaseError, NotADatabaseError)) as raised:
        read_everything(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize("table", SCHEMA_TABLES)
def test_a_damaged_table_is_reported_as_a_store_error_never_a_raw_sqlite_error(tmp_path, table):
    path = tmp_path / "faceguard.db"
    make_store(path, people=30)
    plain = sqlite3.connect(path)
    root = plain.execute("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", [table]).fetchone()[0]
    plain.close()
    size = page_size(path)
    with path.open("r+b") as file:
        file.seek((root - 1) * size)
        file.write(b"\xde\xad\xbe\xef" * (size // 4))  # 0xde is no b-tree page type
    assert_reported_as_damaged(path)
