"""A kiosk's file as a replica: rows copied from another database (as the site's server sends them) open
and match there, a person the server no longer has is erased, and undelivered events come out once,
in order, with their snapshots sealed to their unique ids."""

from __future__ import annotations

import numpy as np
import pytest

from faceguard.store.live_gallery import LiveGallery
from faceguard.store.repository import Store
from faceguard.store.site_replica import DELIVERED_THROUGH, delivered_snapshot_row
from tests.store_helpers import DIM, MODEL, new_template, tiny_jpeg


def rows_of(source: Store, person_ids=None):
    """What a server holding ``source``'s rows sends: people, templates with thumbnails, former names."""
    people = source._query("SELECT * FROM people", [])
    if person_ids is not None:
        people = [row for row in people if row["id"] in set(person_ids)]
    ids = [row["id"] for row in people]
    marks = ",".join("?" * len(ids)) or "NULL"
    templates = source._query(
        f"SELECT t.*, th.jpeg, th.landmarks FROM templates t JOIN template_thumbnails th ON th.template_id = t.id"
        f" WHERE t.person_id IN ({marks})",
        ids,
    )
    former = source._query(f"SELECT * FROM former_names WHERE person_id IN ({marks})", ids)
    return people, templates, former


@pytest.fixture
def server(tmp_path):
    with Store.open(tmp_path / "server.db") as opened:
        yield opened


def test_copied_rows_open_in_the_replica_and_its_gallery_follows_them(server, store):
    rng = np.random.default_rng(1)
    ada = server.enroll("Ada Lovelace", new_template(rng), new_template(rng), badge="1")
    bob = server.enroll("Bob Babbage", new_template(rng))
    live = LiveGallery.load(store, MODEL, DIM)
    assert len(live) == 0

    store.apply_site_rows(7, None, *rows_of(server))
    assert store.replica_position() == 7
    assert live.refresh() == {ada.id, bob.id} and len(live) == 3
    assert store.person(ada.id).name == "Ada Lovelace" and store.person(ada.id).pseudonym == ada.pseudonym
    for template in server.templates(ada.id):
        mine = {t.id: t for t in store.templates(ada.id)}[template.id]
        assert np.array_equal(mine.encoding, template.encoding)
        assert store.thumbnail(template.id).jpeg == server.thumbnail(template.id).jpeg

    server.update_person(ada.id, name="Ada King", active=False)
    dropped = server.templates(ada.id)[0].id
    server.db.execute("DELETE FROM templates WHERE id = ?", [dropped])  # a photo removed at the server
    store.apply_site_rows(9, [ada.id], *rows_of(server, [ada.id]))
    assert live.refresh() == {ada.id}
    assert live.status_of(ada.id).name == "Ada King" and live.status_of(ada.id).active is False
    assert store.former_names(ada.id) == ["Ada Lovelace"]
    assert [t.id for t in store.templates(ada.id)] == [t.id for t in server.templates(ada.id)] and len(live) == 2


def test_a_person_the_server_no_longer_has_is_erased_here_and_their_events_keep_the_pseudonym(server, store):
    rng = np.random.default_rng(2)
    ada = server.enroll("Ada Lovelace", new_template(rng))
    store.apply_site_rows(3, None, *rows_of(server))
    event = store.log_event("granted", "granted", person_id=ada.id, message="Access granted: Ada Lovelace.")
    server.remove_person(ada.id)

    gone = store.apply_site_rows(4, [ada.id], *rows_of(server, [ada.id]))
    assert gone == {ada.id} and store.people_ids() == set()
    logged = {e.id: e for e in store.events()}[event]
    assert logged.message == f"Access granted: {ada.pseudonym}." and logged.person_id is None


def test_undelivered_events_come_out_in_order_with_snapshots_sealed_to_their_unique_ids(store):
    rng = np.random.default_rng(3)
    jpegs = [tiny_jpeg(rng) for _ in range(5)]
    ids = [store.log_event("unknown", "unknown", message=f"Unknown face {i}.", snapshot=jpegs[i]) for i in range(5)]
    first = store.events_to_deliver(3)
    assert [row["kiosk_event_id"] for row in first] == ids[:3]
    assert len({row["event_uid"] for row in first}) == 3 and all(len(row["event_uid"]) == 32 for row in first)
    sealer = store.sealer()
    for row, jpeg in zip(first, jpegs):
        assert jpeg not in row["snapshot"]
        assert sealer.open(row["snapshot"], delivered_snapshot_row(row["event_uid"])) == jpeg
    again = store.events_to_deliver(3)  # not marked delivered: sent again, with the same unique ids
    assert [row["event_uid"] for row in again] == [row["event_uid"] for row in first]
    replicas = {row["replica"] for row in first + again}  # this file's own id: its event ids count from 1
    assert len(replicas) == 1 and len(replicas.pop()) == 32
    store.mark_delivered(first[-1]["kiosk_event_id"])
    assert [row["kiosk_event_id"] for row in store.events_to_deliver(10)] == ids[3:]
    assert store.undelivered_count() == 2 and store.get_setting(DELIVERED_THROUGH) == ids[2]


def test_the_servers_settings_are_taken_but_this_computers_own_are_kept(store):
    store.set_setting("admin.password_hash", "mine")
    assert store.apply_site_settings(
        {"kiosk.threshold": "0.55", "admin.password_hash": "theirs", "site.replica_seq": "99"}
    )
    assert store.get_setting("kiosk.threshold") == 0.55
    assert store.get_setting("admin.password_hash") == "mine" and store.replica_position() == 0
    assert not store.apply_site_settings({"kiosk.threshold": "0.55"})
