"""An administrator in site mode: the admin's file is a replica of the site, every change is made on the
server and copied back at once (so the doors get what the admin sees), and the site's access log, as the
doors delivered it, is copied into the admin's file."""

from __future__ import annotations

import numpy as np
import pytest

from faceguard.app.site_admin import SiteAdminStore
from faceguard.app.site_link import SiteLink
from faceguard.cli import main
from faceguard.core.errors import SiteUnreachableError
from faceguard.site.server import SiteServer
from faceguard.store.chain_audit import verify_chain
from faceguard.store.repository import Store
from tests.store_helpers import new_template, tiny_jpeg


def test_the_admins_changes_are_made_on_the_server_and_reach_a_door(site, site_db, admin_url, tmp_path):
    url = admin_url
    rng = np.random.default_rng(1)
    with SiteAdminStore.open_site(url, tmp_path / "admin.db") as admin:
        assert admin.site_name() == f"admin_ada_{site_db.name}@127.0.0.1:{site_db.server.port}/{site_db.name}"
        grace = admin.enroll("Grace Hopper", new_template(rng), new_template(rng), badge="7")
        assert grace.templates == 2 and {p["name"] for p in site.people()} == {"Grace Hopper"}
        admin.update_person(grace.id, name="Grace B. Hopper", group="Staff")
        assert site.people()[0]["name"] == "Grace B. Hopper" and admin.person(grace.id).group == "Staff"
        admin.set_settings({"kiosk.k": 2, "admin.example": "kept here"})
        assert site.settings()["kiosk.k"] == "2" and "admin.example" not in site.settings()
        assert admin.get_setting("admin.example") == "kept here"

        door_url = site.add_door("Front door").url(site_db.url)
        with SiteServer.connect(door_url) as door, Store.open(tmp_path / "door.db") as kiosk:
            SiteLink(door_url, kiosk.path).sync_once(door, kiosk)
            assert kiosk.person(grace.id).name == "Grace B. Hopper" and len(kiosk.templates(grace.id)) == 2
            assert kiosk.get_setting("kiosk.k") == 2

            erased = admin.remove_person(grace.id)
            assert erased.name == "Grace B. Hopper" and site.people() == [] and admin.people_ids() == set()
            SiteLink(door_url, kiosk.path).sync_once(door, kiosk)
            assert kiosk.people_ids() == set()


def test_the_sites_access_log_is_copied_into_the_admins_file(site, site_db, admin_url, tmp_path):
    url = admin_url
    rng = np.random.default_rng(2)
    ada = site.enroll("Ada Lovelace", new_template(rng))
    jpeg = tiny_jpeg(rng)
    for name in ("Front door", "Back door"):
        door_url = site.add_door(name).url(site_db.url)
        with SiteServer.connect(door_url) as door, Store.open(tmp_path / f"{name}.db") as kiosk:
            link = SiteLink(door_url, kiosk.path)
            link.sync_once(door, kiosk)
            kiosk.log_event("granted", "granted", person_id=ada, message="Access granted: Ada Lovelace.", snapshot=jpeg)
            kiosk.log_event("unknown", "unknown", message="Unknown face.")
            link.sync_once(door, kiosk)

    with SiteAdminStore.open_site(url, tmp_path / "admin.db") as admin:
        events = admin.events(newest_first=False)
        assert len(events) == 4 and {e.door for e in events} == {"Front door", "Back door"}
        assert [e.decision for e in admin.events(door="Back door", newest_first=False)] == ["granted", "unknown"]
        granted = [e for e in events if e.decision == "granted"]
        assert all(e.person_name == "Ada Lovelace" and admin.event_snapshot(e.id) == jpeg for e in granted)
        assert verify_chain(admin.db, admin.path).intact
        admin.pull()  # nothing new: nothing copied twice
        assert len(admin.events()) == 4

        admin.remove_person(ada)  # erased at the site: the admin's copy of the log keeps the pseudonym only
        assert all("Ada" not in (e.message or "") for e in admin.events())
        assert all("Ada" not in e["message"] for e in site.events())


def test_the_cli_works_on_the_site_with_site(site, site_db, admin_url, tmp_path, capsys):
    url = admin_url
    site.enroll("Ada Lovelace", new_template(np.random.default_rng(3)), badge="1")
    replica = str(tmp_path / "admin.db")
    assert main(["people", "list", "--site", url, "--db", replica]) == 0
    assert "Ada Lovelace" in capsys.readouterr().out
    assert main(["people", "deactivate", "1", "--site", url, "--db", replica]) == 0
    assert site.people()[0]["active"] == 0


def test_the_admins_connection_is_made_again_after_it_broke(site, site_db, admin_url, tmp_path):
    url = admin_url
    with SiteAdminStore.open_site(url, tmp_path / "admin.db") as admin:
        first = admin.server
        site.conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [f"admin_ada_{site_db.name}"]
        )  # the server went away under it (a restart, a network cut)
        with pytest.raises(SiteUnreachableError):
            admin.server.people()
        grace = admin.add_person("Grace Hopper")  # the next change connects again
        assert admin.server is not first and site.people()[0]["name"] == "Grace Hopper" == grace.name
