"""A kiosk's link to a real PostgreSQL site server: a new replica copies everyone, an enrollment at the
server reaches the door's gallery within seconds, events decided at the door reach the server exactly
once, and while the network is cut the kiosk keeps deciding from its replica, says since when, and
catches up when the link returns."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest

from faceguard.app import site_link
from faceguard.app.site_link import SiteLink
from faceguard.site.server import SiteServer
from faceguard.store.live_gallery import LiveGallery
from faceguard.store.repository import Store
from faceguard.store.site_replica import DELIVERED_THROUGH
from tests.site.postgres import Cable
from tests.store_helpers import DIM, MODEL, new_template

WITHIN_S = 10.0


@pytest.fixture
def door_url(site, site_db, postgres) -> Iterator[tuple[str, Cable]]:
    """The URL of door "Front door" through a cable that can be unplugged."""
    cable = Cable(postgres.port)
    url = site.add_door("Front door").url(site_db.url).replace(f":{postgres.port}/", f":{cable.port}/")
    yield url, cable
    cable.close()


def wait_until(condition, seconds: float = WITHIN_S) -> float:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, "not within the time limit"
        time.sleep(0.05)
    return time.monotonic() - start


def test_a_new_replica_copies_everyone_and_follows_an_enrollment_within_seconds(site, door_url, db_path):
    rng = np.random.default_rng(1)
    ada = site.enroll("Ada Lovelace", new_template(rng), badge="1")
    bob = site.enroll("Bob Babbage", new_template(rng))
    url, _ = door_url
    link = SiteLink(url, db_path)
    link.start()
    try:
        with Store.open(db_path) as store:
            wait_until(lambda: store.replica_position() > 0)
            live = LiveGallery.load(store, MODEL, DIM)
            assert live.gallery.identities == {ada, bob} and len(live) == 2
            assert store.person(ada).name == "Ada Lovelace" and store.get_setting("kiosk.door") == "Front door"

            grace_face = new_template(rng)
            grace = site.enroll("Grace Hopper", grace_face)
            took = wait_until(lambda: grace in live.refresh() or grace in live.gallery.identities)
            assert took < 3.0
            assert live.identify(grace_face.encoding[None], 0.5)[0].identity == grace

            site.remove_person(bob)  # erased at the server: erased at the door
            wait_until(lambda: bob not in store.people_ids())
            live.refresh()
            assert live.gallery.identities == {ada, grace}
        assert link.state.online and link.state.notice() is None
    finally:
        link.stop()


def test_events_reach_the_server_exactly_once_even_when_a_delivery_is_repeated(site, door_url, db_path):
    url, _ = door_url
    with Store.open(db_path) as store:
        for i in range(7):
            store.log_event("unknown", "unknown", message=f"Unknown face {i}.", door="Old name")
        with SiteServer.connect(url) as server:
            link = SiteLink(url, db_path)
            link.sync_once(server, store)
            assert store.undelivered_count() == 0 and link.delivered == 7
            store.set_setting(DELIVERED_THROUGH, 3)  # the kiosk died before it noted the last delivery
            link.sync_once(server, store)
            assert link.delivered == 7  # sent again, taken once
    events = site.events(door="Front door")
    assert len(events) == 7 and len({event["event_uid"] for event in events}) == 7
    assert sorted(event["kiosk_event_id"] for event in events) == list(range(1, 8))


def test_cut_off_the_kiosk_keeps_deciding_says_since_when_and_catches_up(site, door_url, db_path):
    rng = np.random.default_rng(2)
    ada = site.enroll("Ada Lovelace", new_template(rng))
    url, cable = door_url
    link = SiteLink(url, db_path)
    link.start()
    try:
        with Store.open(db_path) as store:
            wait_until(lambda: link.state.online and store.replica_position() > 0)
            cable.unplug()
            wait_until(lambda: not link.state.online)
            assert link.state.notice().startswith("Site server unreachable since ")
            decided = [
                store.log_event("granted", "granted", person_id=ada, message="Access granted.") for _ in range(5)
            ]
            newcomer = site.enroll("Made during the outage", new_template(rng))  # at the server meanwhile
            wait_until(lambda: "5 access event(s) will be sent" in (link.state.notice() or ""))
            cable.plug()
            wait_until(lambda: link.state.online and store.undelivered_count() == 0)
            wait_until(lambda: newcomer in store.people_ids())
        delivered = [e for e in site.events(door="Front door") if e["kiosk_event_id"] in decided]
        assert len(delivered) == 5 and len({e["event_uid"] for e in delivered}) == 5
    finally:
        link.stop()


def test_a_network_gone_silent_is_noticed_and_the_link_recovers_when_it_returns(site, door_url, db_path, monkeypatch):
    monkeypatch.setattr(site_link, "ROUND_LIMIT", 2.0)  # the 30 s of a kiosk, shortened for the test
    monkeypatch.setattr(site_link, "POLL", 0.5)
    site.enroll("Ada Lovelace", new_template(np.random.default_rng(3)))
    url, cable = door_url
    link = SiteLink(url, db_path)
    link.start()
    try:
        with Store.open(db_path) as store:
            wait_until(lambda: link.state.online and store.replica_position() > 0)
            cable.freeze()  # nothing is closed: only a time limit can tell
            store.log_event("unknown", "unknown", message="Unknown face.")  # the next round sends it: stuck
            noticed = wait_until(lambda: not link.state.online, seconds=20)
            assert noticed < 15 and link.state.notice().startswith("Site server unreachable since ")
            cable.thaw()
            wait_until(lambda: link.state.online and store.undelivered_count() == 0, seconds=20)
        assert len(site.events(door="Front door")) == 1
    finally:
        link.stop()
    assert not link._thread.is_alive()


def test_a_copy_that_cannot_be_kept_is_said_and_tried_again(site, door_url, tmp_path, monkeypatch):
    monkeypatch.setattr(site_link, "RETRY", (0.2,))
    site.enroll("Ada Lovelace", new_template(np.random.default_rng(4)))
    url, _ = door_url
    path = tmp_path / "kiosk.db"
    path.write_bytes(b"not a database, a file left here by something else" * 100)
    link = SiteLink(url, path)
    link.start()
    try:
        wait_until(lambda: (link.state.problem or "").startswith("This kiosk's copy cannot be kept: "))
        assert not link.state.online and link._thread.is_alive()
        path.unlink()  # the operator moves it away: the link makes its copy
        wait_until(lambda: link.state.online and link.state.replica_seq > 0)
    finally:
        link.stop()
