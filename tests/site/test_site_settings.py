"""Settings in site mode: the site's apply at every door, those set for one door win there (its voting,
liveness mode, lock), and a kiosk's own (its name, camera, admin password) are never taken."""

from __future__ import annotations

from faceguard.app.settings import load_settings
from faceguard.app.site_link import SiteLink
from faceguard.site.server import SiteServer
from faceguard.store.repository import Store


def kiosk_settings(site, site_db, door: str, path):
    url = site.add_door(door).url(site_db.url)
    with SiteServer.connect(url) as server, Store.open(path) as store:
        store.set_setting("kiosk.camera", "/dev/video2")
        store.set_setting("admin.password_hash", "mine")
        SiteLink(url, path).sync_once(server, store)
        return load_settings(store), store.get_setting("admin.password_hash")


def test_a_door_takes_the_sites_settings_and_its_own_win(site, site_db, tmp_path):
    site.set_settings({"kiosk.liveness": "off", "kiosk.k": 2, "kiosk.camera": "0"})
    site.set_settings({"kiosk.liveness": "active", "kiosk.door_pulse": 6.0, "kiosk.door": "Renamed"}, door="Front door")
    front, password = kiosk_settings(site, site_db, "Front door", tmp_path / "front.db")
    back, _ = kiosk_settings(site, site_db, "Back door", tmp_path / "back.db")
    assert (front.liveness, front.door_pulse, front.door) == ("active", 6.0, "Front door")
    assert (back.liveness, back.door) == ("off", "Back door") and back.door_pulse != 6.0
    assert front.k == back.k == 2
    assert front.camera == back.camera == "/dev/video2" and password == "mine"


def test_the_cli_sets_the_sites_settings_and_a_doors_checked_as_the_kiosk_checks_them(site, site_db, capsys):
    from faceguard.cli import main

    assert main(["server", "settings", "--url", site_db.url, "k=2", "liveness=off"]) == 0
    assert main(["server", "settings", "--url", site_db.url, "--door", "Front door", "door_pulse=6"]) == 0
    out = capsys.readouterr().out
    assert "Saved for door 'Front door': door_pulse=6." in out
    assert site.settings() == {"kiosk.k": "2", "kiosk.liveness": '"off"', "door:Front door:kiosk.door_pulse": "6.0"}
    assert main(["server", "settings", "--url", site_db.url, "k=two"]) == 2
    assert main(["server", "settings", "--url", site_db.url, "door_pulse=99"]) == 2
    assert main(["server", "settings", "--url", site_db.url, "colour=blue"]) == 2
    err = capsys.readouterr().err
    assert "k takes a int, not 'two'" in err and "colour=blue" in err
    assert len(site.settings()) == 3  # nothing refused was saved
