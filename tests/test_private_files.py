"""Files holding personal data are readable by their owner only: the database, its -wal and -shm files,
backups, CSV exports and the demo database are 0600, in folders FaceGuard creates 0700; an older
database left readable by others is tightened when FaceGuard opens it, a read-only copy is left alone.

Every test runs under the common umask 022, which made all of these 0644 in 0755 folders before."""

from __future__ import annotations

import csv
import logging
import os
import shutil
import sqlite3
import stat
import tempfile
from pathlib import Path

import numpy as np
import pytest

from faceguard.app.kiosk.demo import DEMO_PEOPLE, demo_database, enroll_demo_people, reset_demo_database
from faceguard.cli import main
from faceguard.core.paths import data_dir
from faceguard.store.repository import Store
from tests.store_helpers import new_template, run_worker, tiny_jpeg

pytestmark = pytest.mark.skipif(os.name != "posix", reason="permission bits are POSIX-only")


@pytest.fixture(autouse=True)
def usual_umask(tmp_path, monkeypatch):
    """The umask of most desktops and servers, and a data folder of this test's own."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("FACEGUARD_DB", raising=False)
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def side_files(path: Path) -> list[Path]:
    return [Path(f"{path}-wal"), Path(f"{path}-shm")]


def fill(store: Store, people: int = 2) -> None:
    """People with templates (encodings, face thumbnails) and access events with snapshots."""
    rng = np.random.default_rng(0)
    for i in range(people):
        person = store.enroll(f"Person {i}", new_template(rng), badge=str(1000 + i))
        store.log_event("granted", "matched", person_id=person.id, snapshot=tiny_jpeg(rng))


def test_a_new_database_its_wal_and_shm_and_its_new_folders_are_private(tmp_path):
    (tmp_path / "site").mkdir()
    path = tmp_path / "site" / "kiosk" / "door" / "faceguard.db"
    with Store.open(path) as store:
        fill(store)
        assert all(each.exists() for each in side_files(path))  # still open: SQLite keeps its WAL
        assert [mode(each) for each in [path, *side_files(path)]] == [0o600] * 3
    assert mode(path) == 0o600
    assert [mode(folder) for folder in (path.parent, path.parent.parent)] == [0o700, 0o700]
    assert mode(tmp_path / "site") == 0o755  # the operator's own folder is not FaceGuard's to change


def test_the_default_database_and_the_data_folder_are_private(tmp_path):
    with Store.open() as store:
        fill(store)
        assert store.path == data_dir() / "faceguard.db"
    assert mode(data_dir() / "faceguard.db") == 0o600
    assert mode(data_dir()) == 0o700


def test_a_backup_made_by_the_cli_is_private(tmp_path, capsys):
    path = tmp_path / "faceguard.db"
    with Store.open(path) as store:
        fill(store)
    backups = tmp_path / "backups"
    backups.mkdir()
    assert main(["db", "backup", "--db", str(path), str(backups)]) == 0
    (backup,) = backups.iterdir()
    assert capsys.readouterr().out.strip() == str(backup)
    assert mode(backup) == 0o600
    assert [p.name for p in backups.iterdir()] == [backup.name]  # no .partial or journal left behind
    with Store.open(backup, create=False) as copy:
        assert [p.name for p in copy.people()] == ["Person 0", "Person 1"]


@pytest.mark.parametrize("earlier", [False, True], ids=["new-file", "overwrites-a-0644-export"])
def test_a_csv_export_by_the_cli_is_private(tmp_path, capsys, earlier):
    path = tmp_path / "faceguard.db"
    with Store.open(path) as store:
        fill(store, people=3)
    export = tmp_path / "events.csv"
    if earlier:
        export.write_text("an older export\n")
        assert mode(export) == 0o644
    assert main(["events", "--db", str(path), "--csv", str(export)]) == 0
    assert capsys.readouterr().out.strip() == f"Wrote 3 events to {export}."
    assert mode(export) == 0o600
    with export.open(newline="", encoding="utf-8") as file:
        assert [row["name"] for row in csv.DictReader(file)] == ["Person 0", "Person 1", "Person 2"]


def test_the_demo_database_and_its_folders_are_private(pipeline):
    path = demo_database()
    reset_demo_database(path)  # as 'faceguard kiosk --demo' does: the folders are private before the file exists
    assert [mode(folder) for folder in (path.parent, data_dir())] == [0o700, 0o700]
    with Store.open(path, create=True) as store:  # as the kiosk's inference thread opens it
        enroll_demo_people(store, pipeline)
        assert [p.name for p in store.people()] == [name for name, _, _ in DEMO_PEOPLE]
        assert [mode(each) for each in [path, *side_files(path)]] == [0o600] * 3
    assert [mode(folder) for folder in (path.parent, data_dir())] == [0o700, 0o700]


def test_an_existing_database_readable_by_others_is_tightened_on_open(tmp_path, caplog):
    folder = data_dir() / "site"
    path = folder / "faceguard.db"
    with Store.open(path) as store:
        fill(store)
    for each in (tmp_path / "xdg", data_dir(), folder):
        each.chmod(0o755)  # as an earlier FaceGuard left them
    path.chmod(0o644)
    other = sqlite3.connect(path)  # another program has it open: the -wal and -shm stay
    other.execute("SELECT count(*) FROM people").fetchone()
    for each in side_files(path):
        each.chmod(0o644)
    try:
        with caplog.at_level(logging.INFO, logger="faceguard.store.db"), Store.open(path) as store:
            assert len(store.people()) == 2
    finally:
        other.close()
    assert [mode(each) for each in [path, folder, data_dir()]] == [0o600, 0o700, 0o700]
    assert mode(tmp_path / "xdg") == 0o755  # above FaceGuard's folder: not its own
    (message,) = [record.getMessage() for record in caplog.records]
    assert message.startswith("Made private (owner only): ")
    for each in [path, *side_files(path), folder, data_dir()]:
        assert str(each) in message
    with caplog.at_level(logging.INFO, logger="faceguard.store.db"):
        Store.open(path).close()
    assert len(caplog.records) == 1  # said once


@pytest.fixture
def shared_dir():
    """A folder user nobody can reach (tmp_path lives in a 0700 folder)."""
    folder = Path(tempfile.mkdtemp(prefix="faceguard-private-test-"))
    folder.chmod(0o777)  # SQLite may put -wal/-shm files beside the copy
    yield folder
    shutil.rmtree(folder)


def test_a_read_only_copy_is_read_and_left_as_it_is(shared_dir):
    path = shared_dir / "faceguard.db"
    with Store.open(path) as store:
        fill(store)
    path.chmod(0o444)  # an auditor's copy
    report = run_worker("as-nobody", "read-then-write", str(path))
    assert report["people"] == ["Person 0", "Person 1"], report
    assert report["write"]["error"] == "ReadOnlyDatabaseError"
    assert mode(path) == 0o444
