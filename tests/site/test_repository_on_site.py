"""The repository's own tests, run again on a site: the admin's ``Store`` in site mode
(``SiteAdminStore``: a replica file whose changes are made on a real PostgreSQL server and copied
back), so people, photos, consent, erasure, events and settings behave alike on both backends."""

from __future__ import annotations

import pytest

import tests.test_store_repository as on_sqlite
from faceguard.app.site_admin import SiteAdminStore

rng = on_sqlite.rng
logged = on_sqlite.logged

ALL = [name for name in dir(on_sqlite) if name.startswith("test_")]
for _name in ALL:
    globals()[_name] = getattr(on_sqlite, _name)


@pytest.fixture
def store(admin_url, db_path):
    """The admin's store of a new site: its file at ``db_path``, its writes on the server."""
    with SiteAdminStore.open_site(admin_url, db_path) as opened:
        yield opened
