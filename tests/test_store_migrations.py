"""Schema migrations on real files: a new file, every older schema version, a newer FaceGuard's file,
and two programs creating the same file at once."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime

import numpy as np
import pytest

from faceguard.core.errors import SchemaTooNewError
from faceguard.store import keys, sealing
from faceguard.store.db import connect
from faceguard.store.live_gallery import LiveGallery
from faceguard.store.migrations import SCHEMA, m008_face_data_sealed, migrate, schema_version
from faceguard.store.repository import Store
from faceguard.vision.thumbnail import decode_thumbnail
from tests.store_helpers import (
    DIM,
    MODEL,
    SCHEMA_TABLES,
    new_template,
    start_worker,
    tiny_jpeg,
    unit_vector,
)

LATEST_PEOPLE_COLUMNS = {
    "id",
    "name",
    "badge",
    "group_name",
    "active",
    "valid_from",
    "valid_until",
    "notes",
    "pseudonym",
    "created",
    "updated",
    "consent_at",
    "consent_method",
    "consent_version",
}
LATEST_TRIGGERS = {"templates_added", "templates_removed", "people_edited", "people_removed"}


def names(db, kind: str) -> set[str]:
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = ?", [kind]).fetchall()}


def test_a_new_file_gets_the_latest_schema_in_wal_mode_with_foreign_keys(tmp_path):
    path = tmp_path / "sub" / "faceguard.db"  # the folder is created too
    with Store.open(path) as store:
        assert schema_version(store.db) == len(SCHEMA)
        assert names(store.db, "table") >= set(SCHEMA_TABLES)
        assert names(store.db, "trigger") >= LATEST_TRIGGERS
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
        applied = [row[0] for row in store.db.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
        assert applied == [migration.__name__ for migration in SCHEMA]
        assert store.counts() == {"people": 0, "templates": 0, "access_events": 0}
    # WAL is a property of the file: a plain connection sees it too
    plain = sqlite3.connect(path)
    assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    plain.close()


# --- upgrading files written by earlier versions ---------------------------------------------------

STAMP = "2025-03-04T05:06:07.089+00:00"
CONSENT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def fill_version(db, version: int, rng: np.random.Generator) -> dict:
    """Rows as FaceGuard at schema ``version`` would have written them (raw SQL, only existing tables)."""
    expected: dict = {}
    if version >= 1:
        db.execute(
            "INSERT INTO people (id, name, badge, group_name, active, valid_from, valid_until, notes, pseudonym,"
            " created, updated) VALUES (1, 'Ada Lovelace', '1001', 'staff', 1, '2025-01-01T00:00:00.000+00:00',"
            " '2030-01-01T00:00:00.000+00:00', 'night shift', 'P-00000000000000a1', ?, ?)",
            [STAMP, STAMP],
        )
        db.execute(
            "INSERT INTO people (id, name, badge, group_name, active, pseudonym, created, updated)"
            " VALUES (2, 'Bob Babbage', NULL, NULL, 0, 'P-00000000000000b2', ?, ?)",
            [STAMP, STAMP],
        )
        encodings = {}
        for template_id, person_id in [(10, 1), (11, 1), (12, 2)]:
            encoding = unit_vector(rng)
            jpeg = tiny_jpeg(rng)
            landmarks = np.round(rng.random((5, 2)) * 24, 2)
            db.execute(
                "INSERT INTO templates (id, person_id, model_id, encoding, quality, source, created)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    template_id,
                    person_id,
                    MODEL,
                    encoding.astype("<f4").tobytes(),
                    json.dumps({"face_size": 120.0}),
                    f"photo:{template_id}.jpg",
                    STAMP,
                ],
            )
            db.execute(
                "INSERT INTO template_thumbnails (template_id, jpeg, landmarks) VALUES (?, ?, ?)",
                [template_id, jpeg, json.dumps(landmarks.tolist())],
            )
            encodings[template_id] = (person_id, encoding, jpeg, landmarks)
        expected["templates"] = encodings
    if version >= 2:
        db.execute(
            "INSERT INTO access_events (id, time, door, decision, reason, message, person_id, subject, distance,"
            " threshold, model_id, latency_ms) VALUES (100, ?, 'front', 'granted', 'matched', 'Welcome, Ada', 1,"
            " 'P-00000000000000a1', 0.31, 0.6, ?, 42.0)",
            [STAMP, MODEL],
        )
        db.execute(
            "INSERT INTO access_events (id, time, door, decision, reason) VALUES"
            " (101, '2025-03-04T05:07:00.000+00:00', 'front', 'unknown', 'no-match')"
        )
        expected["snapshot"] = tiny_jpeg(rng)
        db.execute("INSERT INTO event_snapshots (event_id, jpeg) VALUES (100, ?)", [expected["snapshot"]])
    if version >= 3:
        db.execute("INSERT INTO settings (key, value) VALUES ('door', ?)", [json.dumps({"name": "front", "k": 3})])
    if version > SCHEMA.index(m008_face_data_sealed):  # face data is written sealed from then on
        sealing.reseal(db, None, sealing.Sealer(keys.current_key()))
    return expected


@pytest.mark.parametrize("version", range(len(SCHEMA)))
def test_a_file_at_every_earlier_schema_version_is_upgraded_with_its_rows_intact(tmp_path, version):
    path = tmp_path / f"v{version}.db"
    db = connect(path)
    migrate(db, stop_before=SCHEMA[version].__name__)
    assert schema_version(db) == version
    with db.conn:
        expected = fill_version(db, version, np.random.default_rng(version))
    db.close()

    with Store.open(path) as store:
        assert schema_version(store.db) == len(SCHEMA)
        assert names(store.db, "table") >= set(SCHEMA_TABLES)
        assert names(store.db, "trigger") >= LATEST_TRIGGERS
        assert {row[1] for row in store.db.execute("PRAGMA table_info(people)")} == LATEST_PEOPLE_COLUMNS
        assert store.check() == []
        if version >= 1:
            ada = store.find_person("1001")
            assert (ada.id, ada.name, ada.group, ada.active, ada.notes, ada.templates) == (
                1,
                "Ada Lovelace",
                "staff",
                True,
                "night shift",
                2,
            )
            assert ada.valid_from == datetime(2025, 1, 1, tzinfo=UTC)
            assert ada.valid_until == datetime(2030, 1, 1, tzinfo=UTC)
            assert ada.created == datetime(2025, 3, 4, 5, 6, 7, 89000, tzinfo=UTC)
            bob = store.find_person("bob babbage")
            assert (bob.id, bob.active, bob.badge, bob.templates) == (2, False, None, 1)
            assert (ada.consent_at, ada.consent_method, bob.consent_at) == (None, None, None)  # not recorded then
            ids, encodings = store.load_encodings(MODEL)
            templates = expected["templates"]
            assert ids.tolist() == [templates[t][0] for t in sorted(templates)]
            np.testing.assert_array_equal(encodings, np.stack([templates[t][1] for t in sorted(templates)]))
            for template_id, (_person_id, _encoding, jpeg, landmarks) in templates.items():
                thumbnail = store.thumbnail(template_id)
                assert thumbnail.jpeg == jpeg
                np.testing.assert_allclose(thumbnail.landmarks, landmarks, atol=1e-4)
                assert decode_thumbnail(thumbnail).shape == (24, 24, 3)
            assert [t.id for t in store.templates(1)] == [10, 11]
            live = LiveGallery.load(store, MODEL, DIM)
            assert len(live) == 3 and live.status_of(2).active is False
            match = live.identify(templates[12][1][None], 0.1)[0]
            assert match.identity == 2
        if version >= 2:
            granted, unknown = store.events(newest_first=False)
            assert (granted.id, granted.person_name, granted.subject, granted.has_snapshot) == (
                100,
                "Ada Lovelace",
                "P-00000000000000a1",
                True,
            )
            assert (granted.distance, granted.latency_ms) == (0.31, 42.0)
            assert (unknown.id, unknown.person_id, unknown.decision) == (101, None, "unknown")
            assert store.event_snapshot(100) == expected["snapshot"]
        if version >= 3:
            assert store.get_setting("door") == {"name": "front", "k": 3}

        # and the upgraded file is fully usable: new rows, edits, erasure of an old row
        rng = np.random.default_rng(99)
        carol = store.enroll("Carol", new_template(rng), badge="2002", consent_at=CONSENT, consent_method="wizard")
        assert (store.person(carol.id).consent_at, store.person(carol.id).consent_method) == (CONSENT, "wizard")
        store.add_template(carol.id, new_template(rng))
        event_id = store.log_event("granted", "matched", person_id=carol.id, snapshot=tiny_jpeg(rng))
        store.set_setting("door", "back")
        assert store.get_setting("door") == "back"
        assert store.changes_after(0).person_ids >= {carol.id}
        if version >= 1:
            store.update_person(1, name="Ada King", consent_at=CONSENT, consent_method="form")
            assert store.person(1).consent_method == "form"
            store.remove_person(1)
            assert store.templates(1) == []
            if version >= 2:
                erased = next(e for e in store.events() if e.id == 100)
                assert (erased.person_id, erased.person_name, erased.subject, erased.has_snapshot) == (
                    None,
                    None,
                    "P-00000000000000a1",
                    False,
                )
        assert store.event_snapshot(event_id) is not None
        assert store.check() == []


def test_opening_an_up_to_date_file_again_changes_nothing(tmp_path):
    path = tmp_path / "faceguard.db"
    with Store.open(path) as store:
        store.enroll("Ada", new_template())

    def snapshot():
        plain = sqlite3.connect(path)
        try:
            return (
                plain.execute("PRAGMA schema_version").fetchone(),  # bumped by any DDL
                plain.execute("SELECT * FROM _sqlite_migrations ORDER BY id").fetchall(),
                plain.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall(),
                plain.execute("SELECT max(seq) FROM changes").fetchone(),
            )
        finally:
            plain.close()

    before = snapshot()
    bytes_before = path.read_bytes()
    for _ in range(2):
        with Store.open(path) as store:
            assert schema_version(store.db) == len(SCHEMA)
            assert [p.name for p in store.people()] == ["Ada"]
    assert snapshot() == before
    assert path.read_bytes() == bytes_before


def test_a_file_from_a_newer_faceguard_is_refused_and_left_byte_identical(tmp_path):
    path = tmp_path / "faceguard.db"
    with Store.open(path) as store:
        store.enroll("Ada", new_template())
    plain = sqlite3.connect(path)
    with plain:
        plain.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('faceguard', 'm099_from_the_future', '2031-01-01 00:00:00+00:00')"
        )
    plain.close()
    assert not path.with_name("faceguard.db-wal").exists()
    before = path.read_bytes()

    with pytest.raises(SchemaTooNewError, match="m099_from_the_future"):
        Store.open(path)
    db = connect(path)
    try:
        with pytest.raises(SchemaTooNewError):
            migrate(db)
    finally:
        db.close()

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faceguard.db"]


def test_two_processes_creating_the_same_new_file_at_the_same_moment_both_succeed(tmp_path):
    # Each round, both workers open one fresh file at the same wall-clock instant.
    rounds = 200
    paths = [tmp_path / f"race{i}.db" for i in range(rounds)]
    paths_file = tmp_path / "paths.txt"
    paths_file.write_text("\n".join(str(p) for p in paths))
    start = time.time() + 1.0  # both workers are importing in the meantime
    workers = [start_worker("open-at", str(paths_file), repr(start), "0.015") for _ in range(2)]
    outputs = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        outputs.append([json.loads(line) for line in out.splitlines()])

    failures = [result for output in outputs for result in output if "version" not in result]
    assert failures == [], f"{len(failures)} of {2 * rounds} opens failed, first: {failures[0]}"
    assert all(result["version"] == len(SCHEMA) for output in outputs for result in output)
    for path in paths:
        plain = sqlite3.connect(path)
        assert plain.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == len(SCHEMA)
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        plain.close()
