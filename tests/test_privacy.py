"""Privacy end to end on real SQLite files: retention deletes old snapshots and events from the file's
bytes and the log still verifies; a subject access export holds one person's data and nobody else's;
erasure leaves none of a person's stored bytes in the file or its write-ahead log; consent is stored
with the notice's version.

The stored bytes searched for are read from the rows before they are deleted, as SQLite holds them
(encrypted at rest or not), so the searches do not depend on how face data is stored."""

from __future__ import annotations

import json
import sqlite3
import stat
import zipfile
from contextlib import closing
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from faceguard.app.kiosk.retention import PURGE_EVERY, DailyPurge
from faceguard.app.settings import PREFIX, KioskSettings, load_settings, save_settings
from faceguard.cli import main
from faceguard.core.errors import InvalidInputError
from faceguard.store import chain
from faceguard.store.consent import CONSENT_NOTICES, CONSENT_VERSION
from faceguard.store.db import connect
from faceguard.store.migrations import migrate
from faceguard.store.repository import Store
from faceguard.store.retention import EVENT_DAYS, SNAPSHOT_DAYS
from tests.clock_helpers import ManualClock
from tests.store_helpers import new_template, tiny_jpeg

NOW = datetime.now(UTC)
TAMPERED = 10


@pytest.fixture
def rng():
    return np.random.default_rng(14)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def file_bytes(path) -> bytes:
    """The database file and its write-ahead log, as a copy of the disk would show them."""
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def pieces(blob: bytes, among: list[bytes]) -> set[bytes]:
    """The 32-byte pieces of ``blob`` that no other of ``among`` holds (not a plain JPEG's common
    header). A BLOB longer than a page is stored in pieces across overflow pages, so it is searched for
    piece by piece."""
    others = [other for other in among if other is not blob]
    return {piece for i in range(0, len(blob) - 31, 32) if not any((piece := blob[i : i + 32]) in o for o in others)}


def left_in(content: bytes, blobs: list[bytes], among: list[bytes]) -> list[float]:
    """For each of ``blobs``, the share of its own pieces found in ``content``."""
    shares = []
    for blob in blobs:
        own = pieces(blob, among)
        assert len(own) > 10
        shares.append(sum(piece in content for piece in own) / len(own))
    return shares


def raw(path, sql: str, params=()) -> list:
    """Rows read with plain sqlite3: the bytes as stored."""
    with closing(sqlite3.connect(path)) as plain:
        return plain.execute(sql, params).fetchall()


def held_open(path) -> sqlite3.Connection:
    """A second connection to the file, as a running kiosk keeps one: the write-ahead log is then not
    folded into the file and removed when the command's own connection closes."""
    other = sqlite3.connect(path)
    other.execute("SELECT count(*) FROM people").fetchone()
    return other


def log(store: Store, days_ago: float, rng, person=None, marker: str = "", snapshot: bool = True) -> int:
    return store.log_event(
        "granted" if person else "unknown",
        "granted" if person else "unknown",
        time=NOW - timedelta(days=days_ago),
        person_id=person.id if person else None,
        message=marker or None,
        door="front",
        snapshot=tiny_jpeg(rng, 96) if snapshot else None,
    )


def snapshot_bytes(path, event_ids) -> list[bytes]:
    marks = ",".join("?" * len(event_ids))
    return [row[0] for row in raw(path, f"SELECT jpeg FROM event_snapshots WHERE event_id IN ({marks})", event_ids)]


# --- retention -----------------------------------------------------------------------------------


@pytest.fixture
def aged_log(db_path, rng):
    """Ada and 8 events aged 200, 120, 95, 60, 40, 25, 3 and 0 days, each with a 96 px snapshot and a
    message naming its age, and a setting changed between the old ones (an admin action in their part
    of the chain). Returns {age: event id}."""
    ages = (200, 120, 95, 60, 40, 25, 3, 0)
    with Store.open(db_path) as store:
        ada = store.enroll("Ada Lovelace", new_template(rng), badge="1")
        ids = {}
        for age in ages:
            ids[age] = log(store, age, rng, ada if age % 2 else None, marker=f"event aged {age:03d} days")
            if age == 120:
                store.set_settings({PREFIX + "door": "Front"})
    return ids


def test_the_defaults_are_30_days_for_snapshots_and_90_for_events():
    assert (SNAPSHOT_DAYS, EVENT_DAYS) == (30, 90)
    settings = KioskSettings()
    assert (settings.snapshot_retention_days, settings.event_retention_days) == (30, 90)


@pytest.mark.parametrize("days", [0, -1, 3651])
def test_retention_limits_out_of_range_are_refused(days):
    with pytest.raises(InvalidInputError, match=rf"Face snapshots must be kept between 1 and 3650 days, got {days}"):
        KioskSettings(snapshot_retention_days=days)
    with pytest.raises(InvalidInputError, match=rf"Access events must be kept between 1 and 3650 days, got {days}"):
        KioskSettings(event_retention_days=days)


def test_retention_settings_round_trip_through_the_file(db_path):
    with Store.open(db_path) as store:
        save_settings(store, KioskSettings(snapshot_retention_days=7, event_retention_days=365))
    with Store.open(db_path, create=False) as store:
        loaded = load_settings(store)
    assert (loaded.snapshot_retention_days, loaded.event_retention_days) == (7, 365)


def test_purge_deletes_old_snapshots_and_events_from_the_file_bytes_and_keeps_the_new(db_path, aged_log, capsys):
    old_events = [aged_log[age] for age in (200, 120, 95)]
    old_snapshots = [aged_log[age] for age in (200, 120, 95, 60, 40)]
    gone = snapshot_bytes(db_path, old_snapshots)
    kept = snapshot_bytes(db_path, [aged_log[age] for age in (25, 3, 0)])
    assert len(gone) == 5 and len(kept) == 3
    holder = held_open(db_path)
    try:
        code, out, _ = run(capsys, "db", "purge", "--db", str(db_path))
        assert code == 0
        assert out.startswith("Deleted 5 face snapshots (older than 30 days: before ")
        assert "and 3 access events (older than 90 days: before " in out
        content = file_bytes(db_path)
    finally:
        holder.close()
    assert left_in(content, gone, gone + kept) == [0.0] * 5
    assert min(left_in(content, kept, gone + kept)) > 0.9  # what is kept is found
    for age in (200, 120, 95):
        assert f"event aged {age:03d} days".encode() not in content
    for age in (60, 40, 25, 3, 0):
        assert f"event aged {age:03d} days".encode() in content
    with Store.open(db_path, create=False) as store:
        events = {event.id: event.has_snapshot for event in store.events()}
    assert set(events) == set(aged_log.values()) - set(old_events)
    assert [aged_log[age] for age in (60, 40) if events[aged_log[age]]] == []
    assert all(events[aged_log[age]] for age in (25, 3, 0))


def test_a_dry_run_counts_and_deletes_nothing(db_path, aged_log, capsys):
    before = raw(db_path, "SELECT count(*), (SELECT count(*) FROM event_snapshots) FROM access_events")
    code, out, _ = run(capsys, "db", "purge", "--db", str(db_path), "--dry-run")
    assert code == 0 and out.startswith("Would delete 5 face snapshots") and "and 3 access events" in out
    assert raw(db_path, "SELECT count(*), (SELECT count(*) FROM event_snapshots) FROM access_events") == before


def test_purge_follows_the_stored_limits(db_path, aged_log, capsys):
    with Store.open(db_path) as store:
        save_settings(store, KioskSettings(snapshot_retention_days=2, event_retention_days=50))
    code, out, _ = run(capsys, "db", "purge", "--db", str(db_path))
    assert code == 0 and out.startswith("Deleted 7 face snapshots") and "and 4 access events" in out
    with Store.open(db_path, create=False) as store:
        assert [event.id for event in store.events() if event.has_snapshot] == [aged_log[0]]


def test_the_log_verifies_after_a_purge_and_a_later_deletion_is_still_caught(db_path, aged_log, capsys):
    assert run(capsys, "db", "purge", "--db", str(db_path))[0] == 0
    code, out, _ = run(capsys, "events", "verify", "--db", str(db_path))
    assert code == 0, out
    assert out.startswith("OK: ")
    assert "retention removed the entries up to chain position " in out
    with Store.open(db_path, create=False) as store:
        assert store.purge_expired().through is None  # nothing more is due: the cut stays where it is
    raw_delete(db_path, "DELETE FROM access_events WHERE id = ?", [aged_log[40]])
    code, out, err = run(capsys, "events", "verify", "--db", str(db_path))
    assert code == TAMPERED
    assert f"event {aged_log[40]} was deleted" in out


def test_a_purge_records_its_cut_in_the_chained_admin_log_and_keeps_older_admin_actions(db_path, aged_log):
    with Store.open(db_path) as store:
        purge = store.purge_expired()
        (cut,) = chain.cuts(store.db)
    assert (purge.snapshots, purge.events) == (5, 3)
    assert cut.through == purge.through and cut.found == ()
    actions = [row[0] for row in raw(db_path, "SELECT action FROM admin_events ORDER BY id")]
    assert actions == ["person_added", "template_added", "settings_changed", chain.CUT_ACTION]  # none purged
    assert purge.admin_actions == 3  # chained again after the cut
    first = raw(db_path, "SELECT min(seq) FROM log_chain")[0][0]
    assert first == cut.through + 1
    (details,) = raw(db_path, "SELECT details FROM admin_events WHERE action = ?", [chain.CUT_ACTION])
    assert json.loads(details[0])["last_hash"] == cut.last_hash


def test_tampering_in_the_purged_part_is_still_reported_after_the_purge(db_path, aged_log, capsys):
    raw_delete(db_path, "UPDATE access_events SET door = 'side' WHERE id = ?", [aged_log[120]])
    assert run(capsys, "db", "purge", "--db", str(db_path))[0] == 0
    assert raw(db_path, "SELECT count(*) FROM access_events WHERE id = ?", [aged_log[120]]) == [(0,)]
    code, out, _ = run(capsys, "events", "verify", "--db", str(db_path))
    assert code == TAMPERED
    assert f"event {aged_log[120]} was edited" in out and "found as retention removed the entries" in out


FIRST_KEPT = "(SELECT min(seq) FROM log_chain)"


@pytest.mark.parametrize(
    ("statements", "finding"),
    [
        ([f"DELETE FROM admin_events WHERE action = '{chain.CUT_ACTION}'"], "entries before "),
        ([f"DELETE FROM log_chain WHERE seq = {FIRST_KEPT}"], "entry before "),
        (
            [  # the cut stretched over the next entry, which is then deleted with its event
                "DELETE FROM access_events WHERE id = (SELECT record_id FROM log_chain WHERE seq = "
                f"{FIRST_KEPT} AND kind = 'access')",
                f"UPDATE admin_events SET details = json_set(details, '$.through', {FIRST_KEPT}) "
                f"WHERE action = '{chain.CUT_ACTION}'",
                f"DELETE FROM log_chain WHERE seq = {FIRST_KEPT}",
            ],
            "was edited",
        ),
    ],
    ids=["cut record deleted", "first kept entry deleted", "cut stretched"],
)
def test_hiding_a_deletion_behind_the_cut_is_caught(db_path, aged_log, capsys, statements, finding):
    assert run(capsys, "db", "purge", "--db", str(db_path))[0] == 0
    for statement in statements:
        raw_delete(db_path, statement, [])
    code, out, _ = run(capsys, "events", "verify", "--db", str(db_path))
    assert code == TAMPERED and finding in out, out


def raw_delete(path, sql: str, params) -> None:
    """Change the file behind FaceGuard's back, as someone with the file but not the program would."""
    with closing(sqlite3.connect(path)) as plain, plain:
        plain.execute(sql, params)


def test_the_kiosk_purges_at_its_first_frame_and_once_a_day(db_path, rng):
    clock = ManualClock(wall=NOW)
    with Store.open(db_path) as store:
        old, recent = log(store, 40, rng), log(store, 29.5, rng)
        purge = DailyPurge(clock)
        assert purge.run_if_due(store).snapshots == 1
        clock.advance(PURGE_EVERY - 1)  # 29.5 days old is now past 30, but a day has not passed
        assert purge.run_if_due(store) is None
        clock.advance(1)
        assert purge.run_if_due(store).snapshots == 1
        assert [event.has_snapshot for event in store.events()] == [False, False]
        assert {event.id for event in store.events()} == {old, recent}


def test_a_kiosk_purge_that_cannot_run_is_put_off_without_stopping_the_door(db_path, rng, caplog):
    clock = ManualClock(wall=NOW)
    with Store.open(db_path) as store:
        log(store, 40, rng)
        store.set_setting(PREFIX + "snapshot_retention_days", "thirty")  # a hand-edited value
        purge = DailyPurge(clock)
        assert purge.run_if_due(store) is None
        assert "The retention purge is put off for 10 min" in caplog.text
        store.set_setting(PREFIX + "snapshot_retention_days", 30)
        assert purge.run_if_due(store) is None  # not before the retry
        clock.advance(600)
        assert purge.run_if_due(store).snapshots == 1


# --- subject access export ------------------------------------------------------------------------


@pytest.fixture
def two_people(db_path, rng):
    """Ada (two photos, consent given, three events with snapshots, an edit) and Bob (one photo, two events)."""
    with Store.open(db_path) as store:
        ada = store.enroll(
            "Ada Lovelace", new_template(rng), new_template(rng), badge="1", consent_at=NOW, consent_method="form"
        )
        bob = store.enroll("Bob Babbage", new_template(rng), badge="2")
        store.update_person(ada.id, name="Ada Byron", notes="night shift")
        ada = store.update_person(ada.id, name="Ada Lovelace")
        for person in (ada, bob, ada, bob, ada, None):
            log(store, 1, rng, person, marker=f"Access granted: {person.name}." if person else "")
    return ada, bob


def test_a_subject_export_holds_the_persons_data_and_nobody_elses(db_path, two_people, tmp_path, capsys):
    ada, bob = two_people
    out = tmp_path / "ada.zip"
    code, printed, _ = run(capsys, "people", "export", "1", "--out", str(out), "--db", str(db_path))
    assert code == 0
    assert printed.startswith(f"Exported Ada Lovelace (#{ada.id}, badge 1) to {out}: 2 face photos and templates, ")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with Store.open(db_path, create=False) as store:
        templates = store.templates(ada.id)
        faces = {t.id: store.thumbnail(t.id).jpeg for t in templates}
        events = store.events(person_id=ada.id, newest_first=False)
        snapshots = {e.id: store.event_snapshot(e.id) for e in events}
        bob_bytes = [store.thumbnail(t.id).jpeg for t in store.templates(bob.id)]
        bob_bytes += [store.event_snapshot(e.id) for e in store.events(person_id=bob.id)]
        others = [store.event_snapshot(e.id) for e in store.events(decision="unknown")]
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        record = json.loads(archive.read("person.json"))
        contents = b"".join(archive.read(name) for name in names)
        assert {archive.read(f"faces/template-{i}.jpg") for i in faces} == set(faces.values())
        assert {archive.read(f"snapshots/event-{i}.jpg") for i in snapshots} == set(snapshots.values())
    assert names == {
        "README.txt",
        "person.json",
        *(f"faces/template-{i}.jpg" for i in faces),
        *(f"snapshots/event-{i}.jpg" for i in snapshots),
    }
    assert record["person"]["name"] == "Ada Lovelace" and record["person"]["notes"] == "night shift"
    assert record["former_names"] == ["Ada Byron"]
    assert record["consent"] == {
        "given": record["person"]["consent_at"],
        "method": "form",
        "notice_version": CONSENT_VERSION,
        "notice": CONSENT_NOTICES[CONSENT_VERSION],
    }
    assert [t["id"] for t in record["templates"]] == [t.id for t in templates]
    for stored, exported in zip(templates, record["templates"]):
        assert np.array_equal(np.asarray(exported["encoding"], np.float32), stored.encoding)
    assert [e["id"] for e in record["events"]] == [e.id for e in events] and len(events) == 3
    assert all(e["message"] == "Access granted: Ada Lovelace." for e in record["events"])
    assert [a["action"] for a in record["admin_actions"]] == [
        "person_added",
        "template_added",
        "template_added",
        "person_edited",
        "person_edited",
    ]
    assert b"Bob" not in contents and bob.pseudonym.encode() not in contents
    assert not [blob for blob in bob_bytes + others if blob in contents]


def test_an_export_never_overwrites_a_file(db_path, two_people, tmp_path, capsys):
    out = tmp_path / "ada.zip"
    out.write_bytes(b"someone else's")
    code, _, err = run(capsys, "people", "export", "1", "--out", str(out), "--db", str(db_path))
    assert code != 0 and f"{out} exists already; choose another file name." in err
    assert out.read_bytes() == b"someone else's"


# --- erasure --------------------------------------------------------------------------------------


def test_erasure_leaves_none_of_the_persons_stored_bytes_in_the_file_or_its_wal(db_path, two_people, rng, capsys):
    ada, bob = two_people  # their rows so far are in the file itself
    holder = held_open(db_path)
    try:
        with Store.open(db_path) as store:  # these stay in the write-ahead log, as on a running kiosk
            log(store, 0, rng, ada)
            log(store, 0, rng, bob)
        assert db_path.with_name(db_path.name + "-wal").stat().st_size > 0

        def stored(person) -> list[bytes]:
            rows = raw(db_path, "SELECT encoding FROM templates WHERE person_id = ?", [person.id])
            rows += raw(
                db_path,
                "SELECT jpeg FROM template_thumbnails"
                " WHERE template_id IN (SELECT id FROM templates WHERE person_id = ?)",
                [person.id],
            )
            rows += raw(
                db_path,
                "SELECT jpeg FROM event_snapshots WHERE event_id IN (SELECT id FROM access_events WHERE person_id = ?)",
                [person.id],
            )
            return [row[0] for row in rows]

        ada_bytes, bob_bytes = stored(ada), stored(bob)
        every = ada_bytes + bob_bytes
        assert len(ada_bytes) == 2 + 2 + 4 and len(bob_bytes) == 1 + 1 + 3
        assert min(left_in(file_bytes(db_path), ada_bytes, every)) > 0.9
        code, out, _ = run(capsys, "people", "remove", "1", "--yes", "--db", str(db_path))
        assert code == 0 and out.startswith("Erased Ada Lovelace")
        content = file_bytes(db_path)
    finally:
        holder.close()
    assert left_in(content, ada_bytes, every) == [0.0] * len(ada_bytes)
    assert min(left_in(content, bob_bytes, every)) > 0.9  # the search finds what is there
    assert b"night shift" not in content  # her record's other fields go with it


def test_the_connection_zeroes_deleted_rows(db_path):
    with closing(connect(db_path).conn) as plain:
        assert plain.execute("PRAGMA secure_delete").fetchone()[0] == 1


# --- consent --------------------------------------------------------------------------------------


def test_consent_is_stored_with_the_notice_version_and_its_text(db_path, capsys):
    with Store.open(db_path) as store:
        ada = store.add_person("Ada Lovelace", consent_at=NOW, consent_method="form")
        bob = store.add_person("Bob Babbage")
        assert (ada.consent_version, bob.consent_version) == (CONSENT_VERSION, None)
        assert raw(db_path, "SELECT version, text FROM consent_notices") == [(CONSENT_VERSION, CONSENT_NOTICES["1"])]
        withdrawn = store.update_person(ada.id, consent_at=None)
        assert (withdrawn.consent_at, withdrawn.consent_method, withdrawn.consent_version) == (None, None, None)
        again = store.update_person(ada.id, consent_at=NOW, consent_method="wizard")
        assert again.consent_version == CONSENT_VERSION
        with pytest.raises(InvalidInputError, match="There is no consent notice version '9' \\(known: 1\\)"):
            store.update_person(ada.id, consent_version="9")
        with pytest.raises(InvalidInputError, match="A consent notice version needs the time consent was given"):
            store.update_person(bob.id, consent_version="1")
    code, out, _ = run(capsys, "people", "show", "#1", "--db", str(db_path))
    assert code == 0 and "(wizard), notice version 1" in out


def test_an_upgraded_database_keeps_earlier_consents_without_a_version(db_path):
    plain = connect(db_path)
    with closing(plain.conn):
        migrate(plain, stop_before="m009_consent_notice")
        plain.execute(
            "INSERT INTO people (name, pseudonym, created, updated, consent_at, consent_method)"
            " VALUES ('Ada', 'P-1', ?, ?, ?, 'form')",
            [NOW.isoformat()] * 3,
        )
        plain.conn.commit()
    with Store.open(db_path) as store:
        (ada,) = store.people()
    assert ada.consent_method == "form" and ada.consent_version is None
