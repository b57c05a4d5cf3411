"""The site's door rules: an admin publishes the groups, schedules and holidays edited on a file, every
kiosk's replica copies them and decides by them; a door cannot change them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from faceguard.app.site_link import SiteLink
from faceguard.cli import main
from faceguard.core.errors import StoreError
from faceguard.site.server import SiteServer
from faceguard.store.repository import Store

ZONE = "Europe/Paris"


def test_published_rules_reach_a_kiosk_replica_which_decides_by_them(site, site_db, tmp_path, capsys):
    with Store.open(tmp_path / "admin.db") as admin:
        admin.add_access_group("Staff", doors={"Front door": "mon-fri 07:00-19:00"})
        admin.add_access_group("Cleaners", doors={"Back door": "mon-sat 05:00-08:00"})
        admin.add_holiday("Christmas Day", date(2026, 12, 25), yearly=True)
    code = main(["server", "publish-rules", "--url", site_db.url, "--db", str(tmp_path / "admin.db")])
    assert code == 0
    assert "Published 2 access group(s) with 2 door schedule(s) and 1 holiday(s)" in capsys.readouterr().out

    url = site.add_door("Front door").url(site_db.url)
    with SiteServer.connect(url) as door, Store.open(tmp_path / "kiosk.db") as kiosk:
        SiteLink(url, kiosk.path).sync_once(door, kiosk)
        rules = kiosk.door_rules(ZONE)
        monday_noon = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
        assert rules.decide(["Staff"], "Front door", monday_noon).allowed
        refused = rules.decide(["Cleaners"], "Front door", monday_noon)
        assert not refused.allowed and "Cleaners" in refused.reason and "Front door" in refused.reason
        christmas = rules.decide(["Staff"], "Front door", datetime(2026, 12, 25, 11, 0, tzinfo=UTC))
        assert not christmas.allowed and "Christmas Day" in christmas.reason

        with Store.open(tmp_path / "admin.db") as admin:  # a group removed at the admin, published again
            admin.delete_access_group(admin.access_groups()[0].id)
            site.publish_door_rules(admin.door_rule_rows())
        SiteLink(url, kiosk.path).sync_once(door, kiosk)
        assert [group.name for group in kiosk.access_groups()] == ["Staff"]
        assert not kiosk.replace_door_rules(door.door_rule_rows())  # nothing new: nothing written


def test_a_door_cannot_change_the_rules(site, door):
    with pytest.raises(StoreError, match="did not let the role door_front_door publish the door rules"):
        door.publish_door_rules({"access_groups": [(1, "Everyone", 1)], "group_doors": [], "holidays": []})
    assert site.door_rule_rows() == {"access_groups": [], "group_doors": [], "holidays": []}
