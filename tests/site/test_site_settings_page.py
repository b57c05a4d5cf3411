"""The admin window's Settings page in site mode: the settings of every door, or of one door only, which
win at that door; what it keeps for the door is only what differs from the site's."""

from __future__ import annotations

from faceguard.app.settings import load_settings
from faceguard.app.site_admin import SiteAdminStore
from faceguard.app.site_link import SiteLink
from faceguard.gui.admin.settings_page import SettingsPage
from faceguard.site.server import SiteServer
from faceguard.store.repository import Store


def test_a_doors_own_settings_are_saved_on_the_page_and_win_at_that_door_only(
    qtbot, site, site_db, admin_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("FACEGUARD_MODELS_DIR", str(tmp_path / "models"))
    front = site.add_door("Front door").url(site_db.url)
    back = site.add_door("Back door").url(site_db.url)
    with SiteAdminStore.open_site(admin_url, tmp_path / "admin.db") as admin:
        page = SettingsPage(admin)
        qtbot.addWidget(page)
        assert [page.scope.itemText(i) for i in range(page.scope.count())] == [
            "Every door",
            "Back door only",
            "Front door only",
        ]
        page.k.setValue(2)  # every door
        page.save()
        page.scope.setCurrentIndex(page.scope.findData("Front door"))
        assert page.k.value() == 2  # the site's, until the door has its own
        page.k.setValue(4)
        page.n.setValue(6)
        page.door_pulse.setValue(7.0)
        page.save()
        assert page.message.text().startswith("Saved for Front door only: door_pulse, k, n.")
        assert site.door_settings("Front door") == {"kiosk.k": 4, "kiosk.n": 6, "kiosk.door_pulse": 7.0}
        page.scope.setCurrentIndex(0)
        assert page.k.value() == 2  # the site's page is untouched
        page.close()

    for door_url, path, expected in ((front, "front.db", (4, 6, 7.0)), (back, "back.db", (2, 5, None))):
        with SiteServer.connect(door_url) as door, Store.open(tmp_path / path) as kiosk:
            SiteLink(door_url, kiosk.path).sync_once(door, kiosk)
            settings = load_settings(kiosk)
            assert (settings.k, settings.n) == expected[:2]
            if expected[2] is not None:
                assert settings.door_pulse == expected[2]
