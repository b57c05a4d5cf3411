"""The repository on a real SQLite file: people, templates, erasure, the access log, settings,
maintenance (check, backup)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from faceguard.access.policy import Outcome
from faceguard.core.errors import (
    ConflictError,
    CorruptDatabaseError,
    InvalidInputError,
    NotFoundError,
    StoreError,
)
from faceguard.store.events import DECISIONS
from faceguard.store.people import status_from_row
from faceguard.store.repository import Store
from faceguard.store.sealing import TEMPLATES
from faceguard.vision.thumbnail import decode_thumbnail
from tests.store_helpers import DIM, MODEL, new_template, tiny_jpeg, unit_vector, write_sealed

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def table_counts(store: Store) -> dict[str, int]:
    tables = ["people", "templates", "template_thumbnails", "access_events", "event_snapshots", "settings", "changes"]
    return {t: store.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


# --- people ----------------------------------------------------------------------------------------


def test_enroll_stores_the_person_and_the_template_and_another_connection_sees_them(store, db_path, rng):
    template = new_template(rng)
    ada = store.enroll(
        "  Ada Lovelace ",
        template,
        badge=" 1001 ",
        group="staff",
        notes="night shift",
        valid_from=T0,
        valid_until=T0 + timedelta(days=30),
    )
    assert (ada.name, ada.badge, ada.group, ada.notes, ada.active, ada.templates) == (
        "Ada Lovelace",
        "1001",
        "staff",
        "night shift",
        True,
        1,
    )
    assert (ada.valid_from, ada.valid_until) == (T0, T0 + timedelta(days=30))
    assert ada.pseudonym.startswith("P-") and ada.created == ada.updated
    with Store.open(db_path) as other:
        assert other.person(ada.id) == ada
        [stored] = other.templates(ada.id)
        np.testing.assert_array_equal(stored.encoding, template.encoding)
        assert (stored.model_id, stored.quality, stored.source) == (MODEL, template.quality, template.source)


def test_enroll_is_atomic_a_failing_template_leaves_no_person_behind(store, rng):
    store.enroll("Existing", new_template(rng))
    before = table_counts(store)
    bad = new_template(rng, encoding=np.full(DIM, np.nan, np.float32))
    with pytest.raises(ValueError, match="non-finite"):
        store.enroll("Ghost", bad, badge="666")
    infinite = new_template(rng, encoding=np.r_[np.ones(DIM - 1), np.inf].astype(np.float32))
    with pytest.raises(ValueError):
        store.enroll("Ghost", infinite)
    with pytest.raises(ValueError):  # several photos at once: the last one is bad
        store.enroll("Ghost", new_template(rng), new_template(rng), infinite)
    assert table_counts(store) == before
    with pytest.raises(NotFoundError):
        store.find_person("Ghost")
    assert store.add_person("Ghost", badge="666").badge == "666"  # the badge was not taken either


def test_a_duplicate_badge_is_a_conflict_and_changes_nothing(store, rng):
    ada = store.enroll("Ada", new_template(rng), badge="1001")
    bob = store.add_person("Bob", badge="2002")
    before = table_counts(store)
    with pytest.raises(ConflictError, match="1001.*Ada"):
        store.enroll("Eve", new_template(rng), badge="1001")
    with pytest.raises(ConflictError, match="1001"):
        store.add_person("Eve", badge=" 1001")
    with pytest.raises(ConflictError, match="1001"):
        store.update_person(bob.id, badge="1001", name="Robert")
    assert table_counts(store) == before
    assert store.person(bob.id) == bob and store.person(ada.id) == ada


def test_update_person_edits_fields_and_keeps_the_rest(store, rng):
    ada = store.enroll("Ada", new_template(rng), badge="1001", group="staff", notes="n")
    edited = store.update_person(
        ada.id, name="Ada King", group="visitors", notes=None, valid_until=T0 + timedelta(days=1)
    )
    assert (edited.name, edited.badge, edited.group, edited.notes, edited.valid_until, edited.templates) == (
        "Ada King",
        "1001",
        "visitors",
        None,
        T0 + timedelta(days=1),
        1,
    )
    assert edited.created == ada.created and edited.updated >= ada.updated
    assert edited.pseudonym == ada.pseudonym
    assert store.set_active(ada.id, False).active is False
    assert store.set_active(ada.id, True).active is True
    assert store.update_person(ada.id, badge=None).badge is None
    assert store.add_person("Bob", badge="1001").badge == "1001"  # the freed badge can be reused

    with pytest.raises(ValueError, match="Unknown person fields"):
        store.update_person(ada.id, colour="red")
    with pytest.raises(InvalidInputError, match="empty"):
        store.update_person(ada.id, name="   ")
    with pytest.raises(NotFoundError):
        store.update_person(9999, name="Nobody")
    with pytest.raises(ValueError, match="Unknown person fields"):
        store.add_person("Carol", colour="red")
    assert store.person(ada.id).name == "Ada King"
    assert [p.name for p in store.people()] == ["Ada King", "Bob"]


def test_a_validity_period_that_ends_before_it_starts_is_refused(store, rng):
    with pytest.raises(InvalidInputError, match="valid_until is before valid_from"):
        store.enroll("Ada", new_template(rng), valid_from=T0, valid_until=T0 - timedelta(hours=1))
    assert store.counts() == {"people": 0, "templates": 0, "access_events": 0}
    bob = store.add_person("Bob", valid_from=T0)
    with pytest.raises(InvalidInputError, match="valid_until is before valid_from"):
        store.update_person(bob.id, valid_until=T0 - timedelta(days=1))
    assert store.person(bob.id) == bob


def test_consent_is_stored_with_the_person_and_template_in_one_write_and_round_trips(store, db_path, rng):
    moment = datetime(2026, 5, 1, 10, 0, 0, 123000, tzinfo=timezone(timedelta(hours=2)))
    ada = store.enroll("Ada", new_template(rng), consent_at=moment, consent_method=" wizard ")
    assert (ada.consent_at, ada.consent_method) == (moment, "wizard")
    assert ada.consent_at.tzinfo == UTC  # stored as UTC text like every other time
    raw = store.db.execute("SELECT consent_at FROM people WHERE id = ?", [ada.id]).fetchone()[0]
    assert raw == "2026-05-01T08:00:00.123+00:00"
    with Store.open(db_path) as other:
        assert other.person(ada.id) == ada
    bob = store.add_person("Bob")
    assert (bob.consent_at, bob.consent_method) == (None, None)  # enrolled without a recorded consent
    assert store.update_person(bob.id, consent_at=T0, consent_method="form").consent_at == T0
    edited = store.update_person(ada.id, notes="moved")  # other edits keep the consent
    assert (edited.consent_at, edited.consent_method) == (moment, "wizard")
    withdrawn = store.update_person(ada.id, consent_at=None)
    assert (withdrawn.consent_at, withdrawn.consent_method) == (None, None)


def test_a_consent_method_without_a_consent_time_is_refused_and_nothing_is_written(store, rng):
    before = table_counts(store)
    with pytest.raises(InvalidInputError, match="consent method needs the time"):
        store.enroll("Ada", new_template(rng), consent_method="wizard")
    assert table_counts(store) == before
    bob = store.add_person("Bob")
    with pytest.raises(InvalidInputError, match="consent method needs the time"):
        store.update_person(bob.id, consent_method="form")
    assert store.person(bob.id) == bob


def test_a_naive_local_valid_until_can_be_set_on_a_person_with_a_stored_valid_from(store):
    # The store takes naive datetimes as the operator's local time (to_text), so an edit form that
    # sends a naive date must work on a person whose valid_from was read back from the file (aware).
    bob = store.add_person("Bob", valid_from=T0)
    local_end = datetime(2026, 12, 31, 18, 0)  # naive: local time
    edited = store.update_person(bob.id, valid_until=local_end)
    assert edited.valid_until == local_end.astimezone(UTC)


def test_find_person_by_badge_id_and_case_insensitive_name(store, rng):
    ada = store.enroll("Ada Lovelace", new_template(rng), badge="1001")
    bob = store.add_person("Bob", badge="42")
    named_42 = store.add_person("42")
    assert store.find_person("1001") == ada
    assert store.find_person(f"#{ada.id}") == ada
    assert store.find_person("  ada LOVELACE ") == ada
    assert store.find_person("42") == bob  # a badge wins over a name
    assert store.find_person(f"#{named_42.id}") == named_42
    store.add_person("ada lovelace")
    with pytest.raises(ConflictError, match=f"#{ada.id}"):
        store.find_person("Ada Lovelace")
    with pytest.raises(NotFoundError):
        store.find_person("Charles")
    with pytest.raises(NotFoundError):
        store.find_person("#9999")


def test_find_person_ignores_case_in_names_beyond_ascii(store):
    # People at a door are called Élise, Øyvind or Ülker: "case-insensitive" must hold for them too
    # (SQLite's NOCASE folds only A-Z).
    elise = store.add_person("Élise Müller")
    assert store.find_person("élise müller") == elise
    assert store.find_person("ÉLISE MÜLLER") == elise


def test_people_search_and_inactive_filter(store, rng):
    store.add_person("Ada", group="staff", badge="1001")
    bob = store.add_person("bob", group="visitors")
    store.add_person("Carol", group="staff", active=False)
    assert [p.name for p in store.people()] == ["Ada", "bob", "Carol"]  # by name, case-insensitive
    assert [p.name for p in store.people(search="STAFF")] == ["Ada", "Carol"]
    assert [p.name for p in store.people(search="100")] == ["Ada"]
    assert [p.name for p in store.people(include_inactive=False)] == ["Ada", "bob"]
    [status] = [status_from_row(row) for row in store.status_rows([bob.id])]
    assert (status.person_id, status.name, status.active, status.valid_from) == (bob.id, "bob", True, None)


# --- erasure ---------------------------------------------------------------------------------------


def test_remove_person_erases_templates_thumbnails_and_snapshots_but_keeps_the_events(store, rng):
    ada = store.enroll("Ada", new_template(rng), badge="1001")
    second = store.add_template(ada.id, new_template(rng))
    template_ids = [t.id for t in store.templates(ada.id)]
    assert second in template_ids
    bob = store.enroll("Bob", new_template(rng))
    ada_events = [store.log_event("granted", "matched", person_id=ada.id, snapshot=tiny_jpeg(rng)) for _ in range(2)]
    ada_plain = store.log_event("denied", "inactive", person_id=ada.id)
    bob_event = store.log_event("granted", "matched", person_id=bob.id, snapshot=b"bob-jpeg")
    stranger = store.log_event("unknown", "no-match", snapshot=b"stranger-jpeg")

    removed = store.remove_person(ada.id)
    assert removed.name == "Ada"

    with pytest.raises(NotFoundError):
        store.person(ada.id)
    with pytest.raises(NotFoundError):
        store.find_person("1001")
    assert store.templates(ada.id) == []
    for template_id in template_ids:
        with pytest.raises(NotFoundError):
            store.thumbnail(template_id)
    assert store.db.execute("SELECT count(*) FROM templates WHERE person_id = ?", [ada.id]).fetchone()[0] == 0
    assert (
        store.db.execute(
            f"SELECT count(*) FROM template_thumbnails WHERE template_id IN ({','.join(map(str, template_ids))})"
        ).fetchone()[0]
        == 0
    )
    for event_id in ada_events:
        assert store.event_snapshot(event_id) is None
    events = {e.id: e for e in store.events()}
    for event_id in [*ada_events, ada_plain]:
        event = events[event_id]
        assert (event.person_id, event.person_name, event.subject, event.has_snapshot) == (
            None,
            None,
            removed.pseudonym,
            False,
        )
    assert events[bob_event].person_name == "Bob" and store.event_snapshot(bob_event) == b"bob-jpeg"
    assert store.event_snapshot(stranger) == b"stranger-jpeg"
    ids, _ = store.load_encodings(MODEL)
    assert set(ids.tolist()) == {bob.id}
    assert store.counts() == {"people": 1, "templates": 1, "access_events": 5}
    assert store.check() == []
    with pytest.raises(NotFoundError):
        store.remove_person(ada.id)
    late = store.log_event("granted", "matched", person_id=ada.id)  # decided just before the erasure
    assert [(e.person_id, e.subject) for e in store.events() if e.id == late] == [(None, None)]


def test_the_id_of_an_erased_person_is_never_given_to_someone_else(store, rng):
    # Decisions about a person erased meanwhile are logged "without them" by id, the CLI takes #id,
    # and a kiosk's gallery and cooldowns are keyed by id: a reused id would pin an erased person's
    # decision, or their cooldown, on the next person enrolled.
    store.enroll("Ada", new_template(rng))
    last = store.enroll("Bob", new_template(rng))
    store.remove_person(last.id)
    newcomer = store.enroll("Carol", new_template(rng))
    assert newcomer.id != last.id
    event_id = store.log_event("granted", "matched", person_id=last.id)  # a decision about Bob, logged late
    [event] = [e for e in store.events() if e.id == event_id]
    assert event.person_name is None


# --- the access log --------------------------------------------------------------------------------


@pytest.fixture
def logged(store, rng):
    ada = store.add_person("Ada")
    bob = store.add_person("Bob")
    plan = [  # minute, person, decision
        (0, ada, "granted"),
        (1, bob, "denied"),
        (2, None, "unknown"),
        (3, ada, "granted"),
        (4, None, "rejected-quality"),
        (5, bob, "granted"),
        (6, ada, "denied"),
    ]
    ids = {}
    for minute, person, decision in plan:
        ids[minute] = store.log_event(
            decision,
            f"reason-{minute}",
            time=T0 + timedelta(minutes=minute),
            person_id=person.id if person else None,
            door="front",
            distance=0.1 * minute,
            threshold=0.6,
            model_id=MODEL,
            latency_ms=12.5,
            snapshot=tiny_jpeg(rng) if minute % 2 == 0 else None,
        )
    return store, ada, bob, ids


def test_events_are_filtered_by_time_person_and_decision(logged):
    store, ada, bob, ids = logged
    minutes = {event_id: minute for minute, event_id in ids.items()}

    def got(**filters):
        return [minutes[e.id] for e in store.events(**filters)]

    assert got() == [6, 5, 4, 3, 2, 1, 0]
    assert got(newest_first=False) == [0, 1, 2, 3, 4, 5, 6]
    assert got(since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=4)) == [4, 3, 2]  # inclusive
    assert got(since=T0 + timedelta(minutes=5, seconds=30)) == [6]
    assert got(person_id=ada.id) == [6, 3, 0]
    assert got(person_id=bob.id, decision="granted") == [5]
    assert got(decision="unknown") == [2]
    assert got(limit=2) == [6, 5]
    assert got(limit=3, newest_first=False, person_id=ada.id) == [0, 3, 6]
    assert got(since=T0.astimezone(timezone_plus_two()) + timedelta(minutes=3), limit=1, newest_first=False) == [3]
    event = store.events(person_id=bob.id, decision="denied")[0]
    assert (
        event.time,
        event.door,
        event.reason,
        event.person_name,
        event.distance,
        event.threshold,
        event.model_id,
        event.latency_ms,
        event.has_snapshot,
    ) == (T0 + timedelta(minutes=1), "front", "reason-1", "Bob", pytest.approx(0.1), 0.6, MODEL, 12.5, False)
    assert event.subject == bob.pseudonym
    assert store.events(decision="granted", person_id=ada.id, limit=1)[0].has_snapshot is False  # minute 3
    assert store.event_snapshot(ids[0])[:2] == b"\xff\xd8"
    assert store.event_snapshot(ids[1]) is None


def timezone_plus_two() -> timezone:
    return timezone(timedelta(hours=2))


def test_events_newest_first_is_the_exact_reverse_of_oldest_first(store):
    # Several faces in one frame are logged with the same timestamp; "newest first" must still put
    # the last logged one first (and a limit must keep the newest ones).
    ids = [store.log_event("unknown", "no-match", time=T0) for _ in range(3)]
    assert [e.id for e in store.events(newest_first=False)] == ids
    assert [e.id for e in store.events()] == ids[::-1]
    assert [e.id for e in store.events(limit=1)] == [ids[-1]]


def test_the_logs_decision_words_are_the_policys_and_the_schema_checks_them(store):
    assert sorted(DECISIONS) == sorted({outcome.decision for outcome in Outcome})
    [schema] = store.db.execute("SELECT sql FROM sqlite_master WHERE name = 'access_events'").fetchone()
    assert "CHECK (decision IN ('granted', 'denied', 'unknown', 'rejected-quality'))" in schema  # as shipped
    with pytest.raises(sqlite3.IntegrityError):
        store.db.execute("INSERT INTO access_events (time, decision, reason) VALUES ('2026', 'maybe', 'x')")


def test_log_event_refuses_unknown_decisions_and_logs_an_unknown_person_as_nobody(store):
    with pytest.raises(ValueError, match="decision"):
        store.log_event("maybe", "x", snapshot=b"jpeg")
    assert table_counts(store)["access_events"] == 0 and table_counts(store)["event_snapshots"] == 0
    event_id = store.log_event("granted", "matched", person_id=12345, snapshot=b"jpeg")
    [event] = store.events()
    assert (event.id, event.person_id, event.person_name, event.subject, event.has_snapshot) == (
        event_id,
        None,
        None,
        None,
        True,
    )
    assert store.check() == []


# --- settings --------------------------------------------------------------------------------------


def test_settings_round_trip_through_a_reopen(store, db_path):
    values = {"door": "front", "k": 3, "threshold": 0.55, "flags": [True, None], "nested": {"a": {"b": [1, 2]}}}
    for key, value in values.items():
        store.set_setting(key, value)
    store.set_setting("k", 4)  # replaced, not duplicated
    assert store.get_setting("missing") is None
    assert store.get_setting("missing", "fallback") == "fallback"
    with Store.open(db_path) as other:
        assert {key: other.get_setting(key) for key in values} == {**values, "k": 4}
    assert store.db.execute("SELECT count(*) FROM settings WHERE key = 'k'").fetchone()[0] == 1


# --- templates -------------------------------------------------------------------------------------


def test_load_encodings_returns_ids_and_encodings_in_template_order_per_model(store, rng):
    ada = store.enroll("Ada", new_template(rng))
    bob = store.enroll("Bob", new_template(rng))
    store.add_template(ada.id, new_template(rng))
    store.add_template(bob.id, new_template(rng, model_id="other@2", dim=512))
    store.add_person("Nobody yet")
    ids, encodings = store.load_encodings(MODEL)
    templates = sorted(
        (t for p in (ada, bob) for t in store.templates(p.id) if t.model_id == MODEL), key=lambda t: t.id
    )
    assert ids.dtype == np.int64 and encodings.dtype == np.float32
    assert encodings.shape == (3, DIM)
    assert ids.tolist() == [t.person_id for t in templates] == [ada.id, bob.id, ada.id]
    np.testing.assert_array_equal(encodings, np.stack([t.encoding for t in templates]))

    ids, encodings = store.load_encodings(MODEL, person_ids=[ada.id])
    assert ids.tolist() == [ada.id, ada.id] and encodings.shape == (2, DIM)
    np.testing.assert_array_equal(encodings, np.stack([t.encoding for t in store.templates(ada.id)]))

    ids, encodings = store.load_encodings("other@2")
    assert ids.tolist() == [bob.id] and encodings.shape == (1, 512)
    ids, encodings = store.load_encodings("never-used")
    assert len(ids) == 0 and len(encodings) == 0
    ids, encodings = store.load_encodings(MODEL, person_ids=[])
    assert len(ids) == 0


def test_load_encodings_refuses_encodings_of_different_lengths(store, rng):
    # One 128-d and one 256-d template: 384 floats happen to split into two rows of 192, which must
    # not be returned as two (garbage) encodings.
    ada = store.enroll("Ada", new_template(rng))
    store.add_template(ada.id, new_template(rng, dim=2 * DIM))
    with pytest.raises(CorruptDatabaseError):
        store.load_encodings(MODEL)


def test_a_thumbnail_round_trips_with_its_landmarks(store, rng):
    template = new_template(rng)
    person = store.enroll("Ada", template)
    [stored] = store.templates(person.id)
    thumbnail = store.thumbnail(stored.id)
    assert thumbnail.jpeg == template.thumbnail.jpeg
    assert thumbnail.landmarks.shape == (5, 2) and thumbnail.landmarks.dtype == np.float32
    np.testing.assert_allclose(thumbnail.landmarks, template.thumbnail.landmarks, atol=0.006)
    image = decode_thumbnail(thumbnail)
    assert image.shape == (24, 24, 3) and image.dtype == np.uint8
    with pytest.raises(NotFoundError):
        store.thumbnail(stored.id + 100)
    with pytest.raises(NotFoundError):
        store.add_template(person.id + 100, template)


def test_people_without_a_model_are_those_with_only_other_models_templates(store, db_path, rng):
    """Counted per person, not per template: a re-encode into the model would help exactly them."""
    old, new = "old@1", "new@2"
    ada = store.enroll("Ada", new_template(rng, model_id=old), new_template(rng, model_id=old))
    bob = store.enroll("Bob", new_template(rng, model_id=old))
    store.add_template(bob.id, new_template(rng, model_id=new, dim=512))
    store.enroll("Cy", new_template(rng, model_id=new, dim=512))
    store.enroll("Di", new_template(rng, model_id="other@1"))
    store.add_person("Nobody yet")
    with Store.open(db_path, create=False) as other:  # what another program reads from the file
        assert other.people_without_model(new) == 2  # Ada and Di
        assert other.people_without_model(old) == 2  # Cy and Di
        assert other.people_without_model("never-used@1") == 4
        assert other.enrolled_by_model() == {new: 2, old: 2, "other@1": 1}
    store.add_template(ada.id, new_template(rng, model_id=new, dim=512))
    assert store.people_without_model(new) == 1
    store.remove_person(bob.id)
    assert store.people_without_model(old) == 2 and store.enrolled_by_model() == {new: 2, old: 1, "other@1": 1}


# --- maintenance -----------------------------------------------------------------------------------


def test_check_is_empty_on_a_sound_file(store, rng):
    for i in range(5):
        person = store.enroll(f"P{i}", new_template(rng))
        store.add_template(person.id, new_template(rng))
        store.log_event("granted", "matched", person_id=person.id, snapshot=tiny_jpeg(rng))
    store.remove_person(person.id)
    assert store.check() == []


def test_check_reports_encodings_of_another_length(store, rng):
    ada = store.enroll("Ada", new_template(rng))
    write_sealed(store, TEMPLATES, store.templates(ada.id)[0].id, unit_vector(rng, 64).tobytes())
    store.enroll("Bob", new_template(rng))
    problems = store.check()
    assert len(problems) == 1 and MODEL in problems[0] and "different sizes" in problems[0]


def test_check_reports_a_dangling_template_and_a_missing_thumbnail(store, rng):
    ada = store.enroll("Ada", new_template(rng))
    bob = store.enroll("Bob", new_template(rng))
    store.db.execute("PRAGMA foreign_keys = OFF")
    store.db.execute("DELETE FROM people WHERE id = ?", [ada.id])  # no cascade: the template dangles
    store.db.execute("PRAGMA foreign_keys = ON")
    [template] = store.templates(bob.id)
    store.db.execute("DELETE FROM template_thumbnails WHERE template_id = ?", [template.id])
    problems = store.check()
    assert any("templates" in p and "missing people" in p for p in problems), problems
    assert any("no face thumbnail" in p for p in problems), problems


def test_backup_during_an_open_read_transaction_is_complete_and_openable(store, db_path, tmp_path, rng):
    people = [store.enroll(f"P{i}", new_template(rng), badge=str(i)) for i in range(20)]
    for person in people[:5]:
        store.log_event("granted", "matched", person_id=person.id, snapshot=tiny_jpeg(rng))
    store.set_setting("door", "front")
    reader = sqlite3.connect(db_path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM people").fetchone()[0] == 20  # holds its snapshot
    late = store.enroll("Late", new_template(rng))  # committed after the reader's snapshot
    try:
        (tmp_path / "backups").mkdir()
        copy = store.backup(tmp_path / "backups" / "copy.db")
        in_folder = store.backup(tmp_path / "backups")
    finally:
        reader.execute("COMMIT")
        reader.close()
    assert copy == tmp_path / "backups" / "copy.db"
    copied = copy.read_bytes()
    with pytest.raises(ConflictError):  # a backup never overwrites an existing file
        store.backup(copy)
    assert copy.read_bytes() == copied
    assert in_folder.parent == tmp_path / "backups" and in_folder.name.startswith("faceguard-")
    assert not [p for p in (tmp_path / "backups").iterdir() if "partial" in p.name]
    for backup in (copy, in_folder):
        with Store.open(backup) as restored:
            assert restored.counts() == store.counts() == {"people": 21, "templates": 21, "access_events": 5}
            assert restored.check() == []
            assert restored.person(late.id).name == "Late"
            assert restored.get_setting("door") == "front"
            original_ids, original = store.load_encodings(MODEL)
            ids, encodings = restored.load_encodings(MODEL)
            assert ids.tolist() == original_ids.tolist()
            np.testing.assert_array_equal(encodings, original)
            for person in people[:3]:
                [template] = restored.templates(person.id)
                assert restored.thumbnail(template.id).jpeg == store.thumbnail(template.id).jpeg
            assert restored.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_backup_into_a_missing_folder_names_the_destination_and_leaves_the_database_alone(store, tmp_path, rng):
    store.enroll("Ada", new_template(rng))
    destination = tmp_path / "no-such-folder" / "copy.db"
    try:
        made = store.backup(destination)
    except StoreError as error:  # the message must point at the backup's folder, not the live file
        assert str(destination.parent) in str(error), str(error)
    else:
        with Store.open(made) as copy:
            assert [p.name for p in copy.people()] == ["Ada"]
    assert [p.name for p in store.people()] == ["Ada"] and store.check() == []


def test_the_gallery_s_lean_status_read_equals_each_person_s_status(store):
    """status_rows converts times in SQL for speed; it must agree with Person.status() exactly."""
    start = datetime(2026, 2, 1, 8, 30, 0, 123000, tzinfo=timezone(timedelta(hours=-5)))
    people = [
        store.add_person("Ada", valid_from=start, valid_until=start + timedelta(days=300, milliseconds=876)),
        store.add_person("Bob", valid_until=datetime(2027, 1, 1, 0, 0, 0, 999000)),
        store.add_person("Eve", active=False),
    ]
    assert [status_from_row(row) for row in store.status_rows()] == sorted(
        (p.status() for p in people), key=lambda s: s.person_id
    )
    assert people[0].status().valid_from == start.timestamp()


def test_face_is_the_first_photos_thumbnail(store, rng):
    """Store.face: the JPEG of the person's first template; None without a photo or a person."""
    first, second = new_template(rng), new_template(rng)
    person = store.enroll("Ada Lovelace", first, second)
    assert store.face(person.id) == first.thumbnail.jpeg != second.thumbnail.jpeg
    assert store.face(store.add_person("No Photo").id) is None
    assert store.face(999) is None
