"""Least privilege: a door reads what its replica needs and delivers its own events, nothing else; an
admin role manages people and reads the log, but delivers no events."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

from faceguard.core.errors import StoreError
from faceguard.site.server import SiteServer
from tests.site.conftest import event
from tests.store_helpers import new_template


def test_a_door_cannot_change_the_site(site, door):
    ada = site.enroll("Ada", new_template())
    with pytest.raises(StoreError, match="did not let the role door_front_door update person"):
        door.update_person(ada, name="Mallory")
    with pytest.raises(StoreError, match="did not let the role door_front_door"):
        door.enroll("Mallory", new_template())
    with pytest.raises(StoreError, match="did not let the role door_front_door"):
        door.remove_person(ada)
    for statement in (
        "UPDATE people SET active = 1",
        "DELETE FROM templates",
        "INSERT INTO settings (key, value) VALUES ('x', 'y')",
        "UPDATE access_events SET message = 'x'",
        "DELETE FROM changes",
        "INSERT INTO doors (name, role) VALUES ('Side door', 'door_front_door')",
        "DELETE FROM schema_migrations",
    ):
        with pytest.raises(errors.InsufficientPrivilege):
            door.conn.execute(statement)
    assert door.people_rows(None)[0]["name"] == "Ada"


def test_a_door_cannot_read_the_access_log(site, door, site_db):
    door.deliver_events([event("Front door", 1, message="Access granted: Ada.")])
    back = site.add_door("Back door")
    with SiteServer.connect(back.url(site_db.url)) as back_door:
        back_door.deliver_events([event("Back door", 1)])
        with pytest.raises(StoreError, match="permission denied for table access_events"):
            back_door.events()
        for statement in (
            "SELECT * FROM access_events",
            "SELECT message FROM access_events",
            "SELECT * FROM event_snapshots",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                back_door.conn.execute(statement)
        # the one column ON CONFLICT (event_uid) needs, of its own rows only
        assert len(back_door.conn.execute("SELECT event_uid FROM access_events").fetchall()) == 1


def test_a_door_cannot_deliver_for_another_door(site, door, site_db):
    with pytest.raises(StoreError, match="row-level security"):
        door.deliver_events([event("Back door", 1)])
    with pytest.raises(StoreError, match="row-level security"):
        door.deliver_events([event("Front door", 1), event("Back door", 2)])
    assert site.events() == []  # nothing of a refused delivery is kept
    back = site.add_door("Back door")
    theirs = event("Back door", 1)
    with SiteServer.connect(back.url(site_db.url)) as back_door:
        back_door.deliver_events([theirs])
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
        door.conn.execute("INSERT INTO event_snapshots (event_uid, jpeg) VALUES (%s, 'x')", [theirs["event_uid"]])
    with pytest.raises(StoreError, match="did not let the role door_front_door add the door"):
        door.add_door("Side door")


def test_an_admin_role_manages_people_but_delivers_nothing(site, door, site_db):
    with SiteServer.connect(site_db.login_role("admin", "faceguard_admin")) as admin:
        ada = admin.enroll("Ada", new_template(), badge="1")
        admin.update_person(ada, notes="day shift")
        door.deliver_events([event("Front door", 1, person_id=ada, message="Access granted: Ada.")])
        assert [row["door"] for row in admin.events()] == ["Front door"]
        with pytest.raises(StoreError, match="did not let the role admin_"):
            admin.deliver_events([event("Front door", 2)])
        with pytest.raises(StoreError, match="did not let the role admin_"):
            admin.add_door("Side door")
        admin.remove_person(ada)
        assert admin.events()[0]["message"].startswith("Access granted: P-")
        assert admin.people() == []


def test_the_door_url_logs_in_as_the_door_alone(site, site_db):
    credentials = site.add_door("Side door 2")
    assert credentials.role == "door_side_door_2"
    assert credentials.password not in repr(credentials)
    url = credentials.url(site_db.url)
    assert site_db.server.password not in url
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("door_side_door_2",)
        (password,) = (
            site.conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'door_side_door_2'")
            .fetchone()
            .values()
        )
        assert password.startswith("SCRAM-SHA-256$4096:")
