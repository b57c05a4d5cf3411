"""Face data encrypted at rest: a copied database file (and its WAL) reveals no encoding or face photo,
rows cannot be swapped, a missing key is named, rotate-key re-encrypts, an old database is encrypted
on upgrade, and enrollment to identification still works, on real photos with the real engine."""

from __future__ import annotations

import shutil

import keyring
import numpy as np
import pytest
from keyring.backend import KeyringBackend

import faceguard.store.maintenance
from faceguard.app.enrollment import enroll_photo, prepare_template
from faceguard.cli import main
from faceguard.core.errors import CorruptDatabaseError, FaceDataKeyError
from faceguard.store import keys
from faceguard.store.db import connect
from faceguard.store.live_gallery import LiveGallery
from faceguard.store.migrations import SCHEMA, migrate
from faceguard.store.repository import Store
from faceguard.store.sealing import SNAPSHOTS, TEMPLATES, THUMBNAILS, Sealer

JPEG_MARKER = b"\xff\xd8\xff"
NAMES = ("obama.jpg", "biden.jpg")


@pytest.fixture(scope="module")
def templates(pipeline, photo):
    """Real templates (encoding and face thumbnail) of two test photos, made once."""
    return [prepare_template(pipeline, photo(name), f"photo:{name}")[0] for name in NAMES]


@pytest.fixture
def config(tmp_path, monkeypatch):
    """FaceGuard's config folder (keys/) in tmp_path, and no $FACEGUARD_KEY_FILE: keys as on a kiosk."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv(keys.KEY_ENV)
    return tmp_path / "config" / "faceguard"


def enroll_both(store: Store, templates) -> list[int]:
    """Enroll each template as a person and log a granted event with its face as snapshot."""
    ids = []
    for number, template in enumerate(templates):
        person = store.enroll(f"Person {number}", template)
        store.log_event("granted", "matched", person_id=person.id, snapshot=template.thumbnail.jpeg)
        ids.append(person.id)
    return ids


def file_bytes(path) -> bytes:
    """The database file and its WAL (if any), as a copy taken off the computer would hold them."""
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def face_data(templates) -> list[bytes]:
    """What must never be found in the file: each encoding's float32 bytes (whole, and its first 32
    bytes) and each thumbnail's JPEG bytes, and the JPEG start marker."""
    found = [JPEG_MARKER]
    for template in templates:
        encoding = np.asarray(template.encoding, "<f4").tobytes()
        found += [encoding, encoding[:32], template.thumbnail.jpeg[:64]]
    return found


def test_a_copied_database_and_its_wal_hold_no_encoding_or_face_photo(tmp_path, templates):
    path = tmp_path / "faceguard.db"
    with Store.open(path) as store:
        enroll_both(store, templates)
        assert file_bytes(path).count(b"Person 0") >= 1  # the copy does hold the rows, readable
        raw = file_bytes(path)  # before a checkpoint: the WAL holds the new pages
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    copy = tmp_path / "copy.db"
    shutil.copy(path, copy)
    for content in (raw, file_bytes(copy)):
        for needle in face_data(templates):
            assert needle not in content
    # the same search finds them in plain bytes: it is not blind
    plain = b"".join(np.asarray(t.encoding, "<f4").tobytes() + t.thumbnail.jpeg for t in templates)
    assert all(needle in plain for needle in face_data(templates))


def test_enrollment_to_identification_works_through_the_encryption(tmp_path, pipeline, photo):
    with Store.open(tmp_path / "faceguard.db") as store:
        obama = enroll_photo(store, pipeline, photo("obama.jpg"), "Barack Obama", "photo:obama.jpg")
        enroll_photo(store, pipeline, photo("biden.jpg"), "Joe Biden", "photo:biden.jpg")
        live = LiveGallery.load(store, pipeline.spec.id, pipeline.spec.dim)
        probe, _ = prepare_template(pipeline, photo("obama2.jpg"), "camera")
        (match,) = live.identify(probe.encoding[None], pipeline.threshold)
        assert match.accepted and match.identity == obama.id
        (stored,) = store.templates(obama.id)
        assert store.thumbnail(stored.id).jpeg.startswith(JPEG_MARKER)
        assert store.face(obama.id) == store.thumbnail(stored.id).jpeg


@pytest.mark.parametrize("column", [TEMPLATES, THUMBNAILS, SNAPSHOTS], ids=lambda c: c.table)
def test_swapping_two_rows_ciphertexts_is_detected_and_names_the_row(store, templates, column):
    enroll_both(store, templates)
    (first, a), (second, b) = store.db.execute(
        f"SELECT {column.key}, {column.column} FROM {column.table} ORDER BY {column.key}"
    ).fetchall()
    update = f"UPDATE {column.table} SET {column.column} = ? WHERE {column.key} = ?"
    store.db.execute(update, [b, first])
    store.db.execute(update, [a, second])
    read = {
        TEMPLATES: lambda: store.load_encodings(templates[0].model_id),
        THUMBNAILS: lambda: store.thumbnail(first),
        SNAPSHOTS: lambda: store.event_snapshot(first),
    }[column]
    with pytest.raises(CorruptDatabaseError, match="altered or copied from another row") as caught:
        read()
    row = {TEMPLATES: "template 1 of person 1", THUMBNAILS: "thumbnail of template 1", SNAPSHOTS: "snapshot of event"}
    assert row[column] in str(caught.value)
    assert len([problem for problem in store.check() if "does not decrypt" in problem]) == 2


def test_a_template_moved_to_another_person_does_not_decrypt(store, templates):
    first, second = enroll_both(store, templates)
    store.db.execute("UPDATE templates SET person_id = ? WHERE person_id = ?", [second, first])
    with pytest.raises(CorruptDatabaseError, match=f"template 1 of person {second}"):
        store.templates(second)


def test_a_missing_key_is_named_with_where_it_belongs_and_nothing_is_garbage(tmp_path, templates, config, capsys):
    path = tmp_path / "faceguard.db"
    with Store.open(path) as store:
        enroll_both(store, templates)
        key_id = store.key_id()
    key_file = config / "keys" / f"{key_id}.key"
    assert key_file.stat().st_mode & 0o777 == 0o600 and key_file.parent.stat().st_mode & 0o777 == 0o700
    assert (config / "keys" / "current").read_text().strip() == key_id
    key_file.rename(tmp_path / "elsewhere.key")
    with Store.open(path) as store:
        assert [p.name for p in store.people()] == ["Person 0", "Person 1"]  # what is not face data still reads
        with pytest.raises(FaceDataKeyError, match=f"encrypted with key {key_id}.*{key_file}.*is missing"):
            store.load_encodings(templates[0].model_id)
    assert main(["db", "check", "--db", str(path)]) == 8
    assert f"key {key_id}" in capsys.readouterr().err
    # a copy of the key brought back through $FACEGUARD_KEY_FILE opens it
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(keys.KEY_ENV, str(tmp_path / "elsewhere.key"))
        with Store.open(path) as store:
            assert store.check() == []


def test_a_wrong_key_file_says_which_key_it_holds(tmp_path, templates, config, monkeypatch):
    path = tmp_path / "faceguard.db"
    with Store.open(path) as store:
        enroll_both(store, templates)
        key_id = store.key_id()
    (config / "keys" / f"{key_id}.key").unlink()
    other = tmp_path / "other.key"
    monkeypatch.setenv(keys.KEY_ENV, str(other))
    other_id = Sealer(keys.current_key()).key_id  # made there on first use
    with Store.open(path) as store, pytest.raises(FaceDataKeyError, match=f"{other}, which holds {other_id}"):
        store.templates(1)


def test_rotate_key_re_encrypts_every_row_and_the_old_key_no_longer_opens_them(tmp_path, templates, config, capsys):
    path = tmp_path / "faceguard.db"
    with Store.open(path) as store:
        enroll_both(store, templates)
        old_id = store.key_id()
        before = {
            c.table: store.db.execute(f"SELECT {c.key}, {c.column}, {c.row} FROM {c.table} ORDER BY 1").fetchall()
            for c in (TEMPLATES, THUMBNAILS, SNAPSHOTS)
        }
    old_file = config / "keys" / f"{old_id}.key"
    old = Sealer(keys._read_key_file(old_file))

    assert main(["db", "rotate-key", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    with Store.open(path) as store:
        new_id = store.key_id()
        assert new_id != old_id and f"Encrypted anew with key {new_id}" in out
        assert "2 face encodings, 2 face thumbnails, 2 event snapshots" in out
        assert not old_file.exists() and old_file.with_name(old_file.name + ".retired").exists()
        assert f"{old_file}.retired" in out
        assert store.check() == []
        for column in (TEMPLATES, THUMBNAILS, SNAPSHOTS):
            for (_, sealed, row), (_, was, _) in zip(
                store.db.execute(f"SELECT {column.key}, {column.column}, {column.row} FROM {column.table} ORDER BY 1"),
                before[column.table],
            ):
                assert old.open(was, row)  # the old key opened the old rows …
                with pytest.raises(CorruptDatabaseError):
                    old.open(sealed, row)  # … and opens none of the new ones
        content = file_bytes(path)
        assert not any(was in content for rows in before.values() for _, was, _ in rows)  # no old ciphertext left
    assert (config / "keys" / "current").read_text().strip() == new_id


def test_an_interrupted_rotation_leaves_the_database_whole_under_its_old_key(tmp_path, templates, config, monkeypatch):
    path = tmp_path / "faceguard.db"
    with Store.open(path) as store:
        enroll_both(store, templates)
        old_id = store.key_id()
    real_reseal = faceguard.store.maintenance.reseal

    def reseal_then_fail(*args):
        real_reseal(*args)
        raise KeyboardInterrupt

    monkeypatch.setattr(faceguard.store.maintenance, "reseal", reseal_then_fail)
    with Store.open(path) as store, pytest.raises(KeyboardInterrupt):
        store.rotate_key()
    with Store.open(path) as store:
        assert store.key_id() == old_id and store.check() == []
        assert (config / "keys" / f"{old_id}.key").exists()


def test_a_database_from_before_encryption_is_encrypted_on_upgrade_leaving_no_plain_copy(tmp_path, templates):
    path = tmp_path / "old.db"
    db = connect(path)
    migrate(db, stop_before="m008_face_data_sealed")
    with Store(db, path) as old:  # the writers as they were: plain encodings, thumbnails and snapshots
        for number, template in enumerate(templates, start=1):
            db.execute(
                "INSERT INTO people (id, name, pseudonym, created, updated) VALUES (?, ?, ?, '2025', '2025')",
                [number, f"Person {number}", f"P-{number:016x}"],
            )
            encoding = np.asarray(template.encoding, "<f4").tobytes()
            db.execute(
                "INSERT INTO templates (id, person_id, model_id, encoding, created) VALUES (?, ?, ?, ?, '2025')",
                [number, number, template.model_id, encoding],
            )
            db.execute(
                "INSERT INTO template_thumbnails (template_id, jpeg, landmarks) VALUES (?, ?, '[]')",
                [number, template.thumbnail.jpeg],
            )
            db.execute(
                "INSERT INTO access_events (id, time, decision, reason, person_id) VALUES (?, '2025', 'granted',"
                " 'matched', ?)",
                [number, number],
            )
            db.execute("INSERT INTO event_snapshots (event_id, jpeg) VALUES (?, ?)", [number, template.thumbnail.jpeg])
        db.conn.commit()
        assert all(needle in file_bytes(path) for needle in face_data(templates))  # plain, as the issue found
        applied = [row[0] for row in old.db.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
        assert applied == [migration.__name__ for migration in SCHEMA[:7]]

    with Store.open(path) as store:
        content = file_bytes(path)
        assert not any(needle in content for needle in face_data(templates))
        ids, encodings = store.load_encodings(templates[0].model_id)
        assert ids.tolist() == [1, 2]
        np.testing.assert_array_equal(encodings, np.stack([t.encoding for t in templates]))
        assert [store.thumbnail(i).jpeg for i in ids.tolist()] == [t.thumbnail.jpeg for t in templates]
        assert [store.event_snapshot(i) for i in ids.tolist()] == [t.thumbnail.jpeg for t in templates]
        assert store.check() == []


def test_a_backup_holds_ciphertext_and_reminds_to_back_up_the_key(tmp_path, templates, capsys):
    path = tmp_path / "faceguard.db"
    with Store.open(path) as store:
        enroll_both(store, templates)
        key_id = store.key_id()
    assert main(["db", "backup", str(tmp_path / "backup.db"), "--db", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(tmp_path / "backup.db")
    assert err.count("\n") == 1 and f"key {key_id}" in err and "back that key up separately" in err
    assert not any(needle in (tmp_path / "backup.db").read_bytes() for needle in face_data(templates))
    with Store.open(tmp_path / "backup.db") as backup:
        assert backup.face(1) == templates[0].thumbnail.jpeg


class MemoryKeyring(KeyringBackend):
    """A working OS keyring, in memory."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.entries.get((service, username))

    def set_password(self, service, username, password):
        self.entries[(service, username)] = password

    def delete_password(self, service, username):
        del self.entries[(service, username)]


def test_where_an_os_keyring_works_the_key_lives_there_and_no_key_file_is_written(tmp_path, templates, config):
    previous, memory = keyring.get_keyring(), MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        path = tmp_path / "faceguard.db"
        with Store.open(path) as store:
            enroll_both(store, templates)
            old_id = store.key_id()
            assert set(memory.entries) == {("faceguard", old_id)}
            assert not list((config / "keys").glob("*.key"))
            rotation = store.rotate_key()
        assert set(memory.entries) == {("faceguard", rotation.new_key_id), ("faceguard", f"{old_id}.retired")}
        with Store.open(path) as store:
            assert store.check() == [] and store.face(1) == templates[0].thumbnail.jpeg
    finally:
        keyring.set_keyring(previous)


def test_a_plain_row_written_behind_faceguards_back_is_refused_by_name(store, templates):
    enroll_both(store, templates)
    store.db.execute("UPDATE event_snapshots SET jpeg = ? WHERE event_id = 2", [templates[1].thumbnail.jpeg])
    with pytest.raises(CorruptDatabaseError, match="snapshot of event 2 is not encrypted"):
        store.event_snapshot(2)
