"""Event delivery: each event exactly once, per door, in the kiosk's order, with its sealed snapshot."""

from __future__ import annotations

import pytest

from faceguard.core.errors import ConflictError, InvalidInputError
from faceguard.site.columns import event_snapshot_row
from faceguard.site.server import SiteServer
from faceguard.store import keys
from faceguard.store.sealing import Sealer
from tests.site.conftest import event


def test_each_event_is_taken_exactly_once(site, door):
    rows = [event("Front door", n) for n in (1, 2, 3)]
    assert door.deliver_events(rows) == 3
    assert door.deliver_events(rows) == 0  # a retry after a lost answer inserts nothing
    later = event("Front door", 4)
    assert door.deliver_events([*rows[1:], later]) == 1
    assert door.deliver_events([]) == 0
    stored = site.events()
    assert [row["kiosk_event_id"] for row in stored] == [4, 3, 2, 1]
    assert [row["event_uid"] for row in stored] == [later["event_uid"], *(r["event_uid"] for r in reversed(rows))]
    assert [row["kiosk_event_id"] for row in site.events(limit=2)] == [4, 3]


def test_two_doors_deliver_side_by_side(site, door, site_db):
    back = site.add_door("Back door")
    with SiteServer.connect(back.url(site_db.url)) as back_door:
        assert back_door.deliver_events([event("Back door", 1), event("Back door", 2)]) == 2
    assert door.deliver_events([event("Front door", 1), event("Front door", 2)]) == 2
    assert len(site.events()) == 4
    assert [(row["door"], row["kiosk_event_id"]) for row in site.events(door="Back door")] == [
        ("Back door", 2),
        ("Back door", 1),
    ]


def test_a_snapshot_sealed_to_its_uid_opens_on_the_server(site, door):
    sealer = Sealer(keys.current_key())
    row = event("Front door", 1)
    row["snapshot"] = sealer.seal(b"jpeg bytes", event_snapshot_row(row["event_uid"]))
    assert door.deliver_events([row, event("Front door", 2)]) == 2
    assert door.deliver_events([row]) == 0
    stored = site.conn.execute("SELECT event_uid, jpeg FROM event_snapshots").fetchall()
    assert [r["event_uid"] for r in stored] == [row["event_uid"]]
    assert sealer.open(stored[0]["jpeg"], event_snapshot_row(row["event_uid"])) == b"jpeg bytes"
    assert [r["has_snapshot"] for r in site.events()] == [False, True]


def test_a_reused_kiosk_event_id_of_one_replica_refuses_the_whole_delivery(site, door):
    door.deliver_events([event("Front door", 1, replica="a")])
    with pytest.raises(ConflictError, match="copies of one database file"):
        door.deliver_events([event("Front door", 2, replica="a"), event("Front door", 1, replica="a")])
    assert [row["kiosk_event_id"] for row in site.events()] == [1]  # one transaction: event 2 is not kept


def test_a_kiosk_whose_database_was_made_anew_delivers_its_events_from_1_again(site, door):
    door.deliver_events([event("Front door", 1, replica="old"), event("Front door", 2, replica="old")])
    assert door.deliver_events([event("Front door", 1, replica="new")]) == 1
    assert sorted(row["kiosk_event_id"] for row in site.events()) == [1, 1, 2]


def test_an_event_without_its_ids_is_refused(door):
    with pytest.raises(InvalidInputError, match="no event_uid"):
        door.deliver_events([{**event("Front door", 1), "event_uid": None}])
    with pytest.raises(InvalidInputError, match="decision"):
        door.deliver_events([event("Front door", 1, decision="maybe")])
