"""Erasure takes the person's name out of their access events' messages, in the file and its write-ahead
log, and the hash chain still verifies; a row edited by hand or a redaction listing forged into the file
is still reported. A real SQLite file written through the store and the policy's own messages, changed
behind its back with plain sqlite3, checked with the real ``faceguard events verify``."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from faceguard.access.policy import Outcome, judge, verify_claim
from faceguard.cli import main
from faceguard.store import chain
from faceguard.store.access_log import log_decision
from faceguard.store.admin_log import log_admin_action
from faceguard.store.db import write_transaction
from faceguard.store.repository import Store
from faceguard.store.timestamps import to_text
from tests.store_helpers import new_template

ADA, BOB = "Adélaïde Lovelace", "Bob Babbage"
NOW = datetime.now(UTC)
TAMPERED = 10


@pytest.fixture
def two_people(db_path):
    """Ada and Bob, each with the kiosk's messages naming them: granted (with the door's action added,
    as the kiosk does), refused by the liveness check, a badge whose face did not match; and an
    unknown face. Returns (Ada, Bob, Ada's event ids)."""
    rng = np.random.default_rng(14)
    with Store.open(db_path) as store:
        ada = store.enroll(ADA, new_template(rng), badge="1")
        bob = store.enroll(BOB, new_template(rng), badge="2")
        ada_events = [log_all(store, ada, NOW - timedelta(hours=1)) for _ in range(2)]
        log_all(store, bob, NOW - timedelta(minutes=30))
        store.log_event("unknown", "no-match", message="Unknown face.", time=NOW)
    return ada, bob, [event_id for ids in ada_events for event_id in ids]


def log_all(store: Store, person, when: datetime) -> list[int]:
    """The decisions a kiosk logs about ``person`` at ``when``, with their own messages."""
    status = person.status()
    granted = verify_claim(status, True, 0.3, 0.6, when)
    assert judge(status, when)[1] == f"Access granted: {person.name}."
    not_live = replace(granted, outcome=Outcome.NOT_LIVE, message=f"{person.name}: Liveness check failed: a photo.")
    door = "Door unlocked for 4 s."
    return [
        log_decision(
            store, replace(granted, message=f"{granted.message} {door}"), door="front", model_id="m@1", door_action=door
        ),
        log_decision(store, not_live, door="front", model_id="m@1"),
        log_decision(store, verify_claim(status, False, 0.9, 0.6, when), door="front", model_id="m@1"),
    ]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def verify(capsys, db_path) -> tuple[int, list[str], str]:
    code, out, err = run(capsys, "events", "verify", "--db", str(db_path))
    return code, out.splitlines(), err


def file_bytes(path) -> bytes:
    """The database file and its write-ahead log, as a copy of the disk would show them."""
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def tamper(path, statement: str, params=()) -> None:
    """Change the file as someone with the file but not the program would."""
    with closing(sqlite3.connect(path)) as plain, plain:
        plain.execute(statement, params)


def raw(path, sql: str, params=()) -> list:
    with closing(sqlite3.connect(path)) as plain:
        return plain.execute(sql, params).fetchall()


def position(path, kind: str, record_id: int) -> int:
    return raw(path, "SELECT seq FROM log_chain WHERE kind = ? AND record_id = ?", [kind, record_id])[0][0]


def erase(capsys, db_path, reference: str = "1") -> None:
    code, out, err = run(capsys, "people", "remove", reference, "--yes", "--db", str(db_path))
    assert code == 0, err
    assert out.startswith("Erased ")


def erasure_record(db_path) -> tuple[int, dict]:
    record_id, details = raw(db_path, "SELECT id, details FROM admin_events WHERE action = 'person_erased'")[-1]
    return record_id, json.loads(details)


# --- what erasure leaves ---------------------------------------------------------------------------


def test_erasure_leaves_no_byte_of_the_name_in_the_file_or_its_wal_and_the_log_verifies(db_path, two_people, capsys):
    ada, bob, ada_events = two_people
    holder = sqlite3.connect(db_path)  # a running kiosk's connection: the write-ahead log is not removed at close
    try:
        holder.execute("SELECT count(*) FROM people").fetchone()
        with Store.open(db_path) as store:  # these stay in the write-ahead log
            ada_events += log_all(store, ada, NOW)
            log_all(store, bob, NOW)
        assert db_path.with_name(db_path.name + "-wal").stat().st_size > 0
        assert ADA.encode() in file_bytes(db_path)
        erase(capsys, db_path)
        content = file_bytes(db_path)
    finally:
        holder.close()
    for piece in (ADA, "Adélaïde", "Lovelace"):
        assert piece.encode("utf-8") not in content
    assert BOB.encode() in content  # the search finds what is there
    messages = dict(raw(db_path, "SELECT id, message FROM access_events"))
    granted, not_live, mismatch = (messages[event_id] for event_id in ada_events[:3])
    assert granted == f"Access granted: {ada.pseudonym}. Door unlocked for 4 s."
    assert not_live == f"{ada.pseudonym}: Liveness check failed: a photo."
    assert mismatch == f"The face does not match {ada.pseudonym}."
    assert sum(BOB in message for message in messages.values() if message) == 6
    code, out, err = verify(capsys, db_path)
    assert (code, err) == (0, "") and out[0].startswith("OK: ") and "chain intact" in out[0]


def test_names_a_person_had_before_a_rename_are_erased_from_their_older_events_too(db_path, capsys):
    rng = np.random.default_rng(15)
    with Store.open(db_path) as store:
        ada = store.enroll("Ada Byron", new_template(rng), badge="1")
        older = log_all(store, ada, NOW - timedelta(days=2))
        ada = store.update_person(ada.id, name="Ada King")  # married
        ada = store.update_person(ada.id, name=ADA)  # and renamed again
        assert store.former_names(ada.id) == ["Ada Byron", "Ada King"]
        newer = log_all(store, ada, NOW)
    erase(capsys, db_path)
    content = file_bytes(db_path)
    for piece in ("Byron", "Ada King", "Lovelace"):
        assert piece.encode("utf-8") not in content
    assert raw(db_path, "SELECT count(*) FROM former_names") == [(0,)]
    messages = dict(raw(db_path, "SELECT id, message FROM access_events"))
    assert messages[older[0]] == f"Access granted: {ada.pseudonym}. Door unlocked for 4 s."
    assert messages[newer[2]] == f"The face does not match {ada.pseudonym}."
    _, details = erasure_record(db_path)
    assert len(details["redacted"]["events"]) == 6
    code, out, err = verify(capsys, db_path)
    assert (code, err) == (0, "") and out[0].startswith("OK: ")


def test_the_erasure_record_lists_each_rewritten_event_with_its_digests_before_and_after(db_path, two_people, capsys):
    ada, _, ada_events = two_people
    before = {event_id: digest(db_path, event_id) for event_id in ada_events}
    entries = dict(raw(db_path, "SELECT record_id, digest FROM log_chain WHERE kind = 'access'"))
    erase(capsys, db_path)
    record_id, details = erasure_record(db_path)
    assert raw(db_path, "SELECT subject FROM admin_events WHERE id = ?", [record_id]) == [(ada.pseudonym,)]
    assert details["redacted"] == {
        "format": 1,
        "events": [[event_id, before[event_id], digest(db_path, event_id)] for event_id in ada_events],
    }
    assert all(before[event_id] == entries[event_id] != digest(db_path, event_id) for event_id in ada_events)
    assert ADA not in json.dumps(details, ensure_ascii=False)


def test_a_name_is_replaced_as_a_whole_word_only(db_path, capsys):
    with Store.open(db_path) as store:
        ann = store.enroll("Ann", new_template(), badge="1")
        event_id = store.log_event(
            "granted", "granted", person_id=ann.id, message="Access granted: Ann. Annex door: Ann's badge."
        )
    erase(capsys, db_path)
    assert raw(db_path, "SELECT message FROM access_events WHERE id = ?", [event_id]) == [
        (f"Access granted: {ann.pseudonym}. Annex door: {ann.pseudonym}'s badge.",)
    ]
    assert verify(capsys, db_path)[0] == 0


def test_a_person_whose_events_never_named_them_is_erased_without_a_listing(db_path, capsys):
    with Store.open(db_path) as store:
        ada = store.enroll(ADA, new_template(), badge="1")
        store.log_event("granted", "granted", person_id=ada.id, message="Welcome.")
    erase(capsys, db_path)
    assert "redacted" not in erasure_record(db_path)[1]
    assert verify(capsys, db_path)[0] == 0


# --- what is still caught ----------------------------------------------------------------------------


def test_a_redacted_event_edited_by_hand_is_still_caught(db_path, two_people, capsys):
    _, _, ada_events = two_people
    erase(capsys, db_path)
    tamper(db_path, "UPDATE access_events SET message = 'Access granted: Mallory.' WHERE id = ?", [ada_events[0]])
    code, out, _ = verify(capsys, db_path)
    assert code == TAMPERED
    assert out == [f"event {ada_events[0]} was edited (chain position {position(db_path, 'access', ada_events[0])})"]


def test_an_event_edited_before_the_erasure_is_still_caught_after_it(db_path, two_people, capsys):
    _, _, ada_events = two_people
    tamper(db_path, "UPDATE access_events SET decision = 'granted', reason = 'granted' WHERE id = ?", [ada_events[1]])
    erase(capsys, db_path)
    code, out, _ = verify(capsys, db_path)
    assert code == TAMPERED
    assert out == [f"event {ada_events[1]} was edited (chain position {position(db_path, 'access', ada_events[1])})"]


def forge_inserted(db_path, event_id: int) -> list[str]:
    """Edit the event, then add an erasure record listing the edit, with no chain entry."""
    old = digest(db_path, event_id)
    tamper(db_path, "UPDATE access_events SET message = 'Access granted: Mallory.' WHERE id = ?", [event_id])
    details = json.dumps({"redacted": {"format": 1, "events": [[event_id, old, digest(db_path, event_id)]]}})
    tamper(
        db_path,
        "INSERT INTO admin_events (time, action, subject, details) VALUES (?, 'person_erased', 'P-1', ?)",
        [NOW.isoformat(), details],
    )
    forged = raw(db_path, "SELECT max(id) FROM admin_events")[0][0]
    return [
        f"event {event_id} was edited (chain position {position(db_path, 'access', event_id)})",
        f"admin action {forged} was inserted: it is not in the chain",
    ]


def forge_entry(db_path, event_id: int) -> list[str]:
    """As ``forge_inserted``, and a chain entry for the forged record with its true digest appended (its
    hash cannot follow the head without rewriting the chain from there)."""
    findings = forge_inserted(db_path, event_id)
    forged, time, subject, details = raw(
        db_path, "SELECT id, time, subject, details FROM admin_events ORDER BY id DESC LIMIT 1"
    )[0]
    record = chain.record_digest(chain.ADMIN, forged, [time, "person_erased", subject, details])
    tamper(
        db_path,
        "INSERT INTO log_chain (kind, record_id, format, digest, hash) VALUES ('admin', ?, 1, ?, ?)",
        [forged, record, chain.link(chain.GENESIS, record)],
    )
    seq = position(db_path, "admin", forged)
    return [
        findings[0],
        f"admin action {forged}, the newest, was added outside FaceGuard or its chain entry altered"
        f" (chain position {seq})",
    ]


def forge_listing(db_path, event_id: int) -> list[str]:
    """Edit the event, then add the edit to the listing of the real erasure record, which then vouches
    for none of its redactions."""
    redacted = [listed[0] for listed in erasure_record(db_path)[1]["redacted"]["events"]]
    old = digest(db_path, event_id)
    tamper(db_path, "UPDATE access_events SET message = 'Access granted: Mallory.' WHERE id = ?", [event_id])
    record_id, details = erasure_record(db_path)
    details["redacted"]["events"].append([event_id, old, digest(db_path, event_id)])
    tamper(db_path, "UPDATE admin_events SET details = ? WHERE id = ?", [json.dumps(details), record_id])
    return [
        *(f"event {i} was edited (chain position {position(db_path, 'access', i)})" for i in [*redacted, event_id]),
        f"admin action {record_id} was edited (chain position {position(db_path, 'admin', record_id)})",
    ]


@pytest.mark.parametrize("forge", [forge_inserted, forge_entry, forge_listing])
def test_a_forged_redaction_listing_is_caught_and_does_not_cover_the_edit(db_path, two_people, capsys, forge):
    _, bob, _ = two_people
    erase(capsys, db_path)
    bob_event = raw(db_path, "SELECT max(id) FROM access_events WHERE person_id = ?", [bob.id])[0][0]
    expected = forge(db_path, bob_event)
    code, out, _ = verify(capsys, db_path)
    assert code == TAMPERED and sorted(out) == sorted(expected)


def test_a_listing_chained_before_the_event_does_not_cover_it(db_path, capsys):
    values = [to_text(NOW), "front", "granted", "granted", "Access granted: Ada.", None, None, None, None, None]
    values += [None] * (len(chain.HASHED_COLUMNS[chain.ACCESS]) - len(values))
    edited = [*values[:4], "Access granted: Mallory.", *values[5:]]
    listing = [[1, chain.record_digest(chain.ACCESS, 1, values), chain.record_digest(chain.ACCESS, 1, edited)]]
    with Store.open(db_path) as store:
        with write_transaction(store.db):
            log_admin_action(store.db, "person_erased", "P-1", redacted={"format": 1, "events": listing})
        event_id = store.log_event("granted", "granted", time=NOW, door="front", message="Access granted: Ada.")
    assert event_id == 1 and digest(db_path, event_id) == listing[0][1]
    tamper(db_path, "UPDATE access_events SET message = 'Access granted: Mallory.' WHERE id = 1")
    assert digest(db_path, event_id) == listing[0][2]
    code, out, _ = verify(capsys, db_path)
    assert code == TAMPERED and out == [f"event 1 was edited (chain position {position(db_path, 'access', 1)})"]


def test_a_listing_in_a_format_from_a_later_faceguard_is_refused_by_name(db_path, two_people, capsys):
    with Store.open(db_path) as store, write_transaction(store.db):
        log_admin_action(store.db, "person_erased", "P-1", redacted={"format": 2, "events": []})
    code, out, err = verify(capsys, db_path)
    assert code not in (0, TAMPERED) and out == []
    assert "lists its redacted events in format 2, which this FaceGuard does not know; update FaceGuard." in err


# --- retention after erasure -------------------------------------------------------------------------


def aged(store: Store, person, days: float) -> int:
    return store.log_event(
        "granted" if person else "unknown",
        "granted" if person else "no-match",
        time=NOW - timedelta(days=days),
        person_id=person.id if person else None,
        message=f"Access granted: {person.name}." if person else "Unknown face.",
    )


def test_a_purge_of_some_redacted_events_still_verifies_and_catches_an_edit_of_the_rest(db_path, capsys):
    with Store.open(db_path) as store:
        ada = store.enroll(ADA, new_template(), badge="1")
        ids = {days: aged(store, ada, days) for days in (200, 120, 10, 1)}
    erase(capsys, db_path)
    code, out, _ = run(capsys, "db", "purge", "--db", str(db_path))
    assert code == 0 and "and 2 access events" in out
    assert [row[0] for row in raw(db_path, "SELECT id FROM access_events ORDER BY id")] == [ids[10], ids[1]]
    code, out, _ = verify(capsys, db_path)
    assert code == 0 and out[0].startswith("OK: ")
    assert ADA.encode() not in file_bytes(db_path)
    tamper(db_path, "UPDATE access_events SET message = 'Access granted: Mallory.' WHERE id = ?", [ids[10]])
    code, out, _ = verify(capsys, db_path)
    assert code == TAMPERED and out == [
        f"event {ids[10]} was edited (chain position {position(db_path, 'access', ids[10])})"
    ]


def test_a_purge_through_the_erasure_record_chains_it_again_and_the_rest_verifies(db_path, capsys):
    with Store.open(db_path) as store:
        ada = store.enroll(ADA, new_template(), badge="1")
        aged(store, ada, 200)
    erase(capsys, db_path)
    with Store.open(db_path) as store:  # logged after the erasure, with older times (a kiosk's late upload)
        aged(store, None, 95)
        kept = aged(store, None, 5)
    erased = erasure_record(db_path)[0]
    chained_at = position(db_path, "admin", erased)
    code, out, _ = run(capsys, "db", "purge", "--db", str(db_path))
    assert code == 0 and "and 2 access events" in out
    assert position(db_path, "admin", erased) > position(db_path, "access", kept) > chained_at
    code, out, _ = verify(capsys, db_path)
    assert code == 0 and out[0].startswith("OK: ")


def digest(db_path, event_id: int) -> str:
    """The digest of the event's record as the file holds it now."""
    row = raw(db_path, f"{chain.select_hashed(chain.ACCESS)} WHERE id = ?", [event_id])[0]
    return chain.record_digest(chain.ACCESS, event_id, row[1:])
