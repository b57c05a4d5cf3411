"""An administrator's view of a site: a replica file that every read comes from (the admin window and
the commands work on it as on a stand-alone database) and whose writes go to the site's server first.

``SiteAdminStore`` is a ``Store`` whose changes of people, photos, settings and door rules are made on
the server (as a member of ``faceguard_admin``) and then copied back into the file at once by the same
link a kiosk uses, so what the admin sees is what the doors get. The file also holds the site's access
log, copied from the server. This computer's own settings (its admin password) stay in the file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from faceguard.app.settings import PREFIX, KioskSettings, load_settings
from faceguard.app.site_link import SiteLink
from faceguard.site.connection import describe
from faceguard.site.server import SiteServer
from faceguard.store.people import Person
from faceguard.store.repository import Store
from faceguard.store.site_replica import LOCAL_SETTINGS
from faceguard.store.templates import NewTemplate

#: Settings that are never a door's own: its name comes from its credentials, the camera is the kiosk
#: PC's, the site's name and time zone are the site's.
NOT_PER_DOOR = frozenset({"door", "camera", "site_name", "time_zone"})


class SiteAdminStore(Store):
    """A site's replica for an admin: reads here, writes on the server (then copied back)."""

    _url: str
    _server: SiteServer
    link: SiteLink

    @classmethod
    def open_site(cls, url: str, path: Path | str) -> SiteAdminStore:
        """Connect to the site at ``url`` (an admin's credentials) and bring the replica ``path`` up to date."""
        store = cls.open(path)
        try:
            store._url, store._server = url, SiteServer.connect(url)
            store.link = SiteLink(url, store.path)
            store.pull()
        except BaseException:
            store.close()
            raise
        return store

    @property
    def server(self) -> SiteServer:
        """The connection to the site, made again if the last one broke (an admin window stays open for hours)."""
        if self._server.conn.broken or self._server.conn.closed:
            self._server = SiteServer.connect(self._url)
        return self._server

    def site_name(self) -> str:
        """The site server, as ``user@host:port/database`` (no password)."""
        return describe(self._url)

    def pull(self) -> None:
        """Copy what changed on the server (people, settings, door rules, the access log) into the file."""
        self.link.sync_once(self.server, self)

    def close(self) -> None:
        if hasattr(self, "_server"):
            self._server.close()
        super().close()

    def enroll(self, name: str, template: NewTemplate, *more: NewTemplate, **details: Any) -> Person:
        person_id = self.server.enroll(name, template, **details)
        for each in more:
            self.server.add_template(person_id, each)
        self.pull()
        return self.person(person_id)

    def add_person(self, name: str, **details: Any) -> Person:
        person_id = self.server.add_person(name, **details)
        self.pull()
        return self.person(person_id)

    def add_template(self, person_id: int, template: NewTemplate, *more: NewTemplate) -> int:
        first = self.server.add_template(person_id, template)
        for each in more:
            self.server.add_template(person_id, each)
        self.pull()
        return first

    def update_person(self, person_id: int, **changes: Any) -> Person:
        self.server.update_person(person_id, **changes)
        self.pull()
        return self.person(person_id)

    def remove_person(self, person_id: int) -> Person:
        person = self.person(person_id)
        self.server.remove_person(person_id)
        self.pull()  # erases the file's copy as the doors' are erased
        return person

    def set_settings(self, values: Mapping[str, Any]) -> None:
        """The site's settings go to the server; this computer's own (``LOCAL_SETTINGS``) stay here."""
        local = {key: value for key, value in values.items() if key.startswith(LOCAL_SETTINGS)}
        site = {key: value for key, value in values.items() if key not in local}
        if local:
            super().set_settings(local)
        if site:
            self.server.set_settings(site)
            self.pull()

    def door_names(self) -> list[str]:
        """The site's doors, as the server knows them."""
        return self.server.door_names()

    def door_settings(self, door: str) -> KioskSettings:
        """The settings ``door`` works with: the site's, with those set for it only in their place."""
        site = load_settings(self)
        known = {field.name for field in dataclasses.fields(KioskSettings)}
        own = {key.removeprefix(PREFIX): value for key, value in self.server.door_settings(door).items()}
        return dataclasses.replace(site, **{name: value for name, value in own.items() if name in known})

    def save_door_settings(self, door: str, settings: KioskSettings) -> dict[str, Any]:
        """Keep for ``door`` only what differs from the site's settings (so a later change of the site's
        still reaches it); what was kept, by setting name. Its name, camera and time zone are not a door's."""
        site = load_settings(self)
        own = {
            PREFIX + name: value
            for name, value in dataclasses.asdict(settings).items()
            if name not in NOT_PER_DOOR and value != getattr(site, name)
        }
        self.server.replace_door_settings(door, own)
        return own

    def add_access_group(self, *args: Any, **kwargs: Any) -> Any:
        return self._then_publish(super().add_access_group(*args, **kwargs))

    def update_access_group(self, *args: Any, **kwargs: Any) -> Any:
        return self._then_publish(super().update_access_group(*args, **kwargs))

    def delete_access_group(self, *args: Any, **kwargs: Any) -> Any:
        return self._then_publish(super().delete_access_group(*args, **kwargs))

    def add_holiday(self, *args: Any, **kwargs: Any) -> Any:
        return self._then_publish(super().add_holiday(*args, **kwargs))

    def update_holiday(self, *args: Any, **kwargs: Any) -> Any:
        return self._then_publish(super().update_holiday(*args, **kwargs))

    def delete_holiday(self, *args: Any, **kwargs: Any) -> Any:
        return self._then_publish(super().delete_holiday(*args, **kwargs))

    def _then_publish(self, result: Any) -> Any:
        """The door rules are edited in the file (its checks and admin log), then made the site's whole."""
        self.server.publish_door_rules(self.door_rule_rows())
        return result
