"""The site schema: init and migrate, a newer schema refused, tables that mirror the SQLite store's,
status, and a server that cannot be reached."""

from __future__ import annotations

import psycopg
import pytest

from faceguard.core.errors import SchemaTooNewError, SiteUnreachableError
from faceguard.site.columns import EVENT_COLUMNS, FORMER_NAME_COLUMNS, PEOPLE_COLUMNS, TEMPLATE_COLUMNS
from faceguard.site.schema import SCHEMA
from faceguard.site.server import SiteServer
from tests.site.conftest import event
from tests.site.postgres import free_port
from tests.store_helpers import new_template


def test_init_is_idempotent(site_db):
    with SiteServer.init(site_db.url) as server:
        first = server.status()
    with SiteServer.init(site_db.url) as server:
        assert server.migrate() == []
        again = server.status()
        applied = [row["name"] for row in server.conn.execute("SELECT name FROM schema_migrations ORDER BY applied")]
    assert first.schema_version == again.schema_version == first.schema_steps == len(SCHEMA)
    assert applied == [step.name for step in SCHEMA]


def test_a_schema_from_a_newer_faceguard_is_refused(site, site_db):
    site.conn.execute("INSERT INTO schema_migrations (name) VALUES ('s999_from_the_future')")
    with pytest.raises(SchemaTooNewError, match="s999_from_the_future.*Update FaceGuard"):
        SiteServer.connect(site_db.url)
    with pytest.raises(SchemaTooNewError):
        site.migrate()
    with pytest.raises(SchemaTooNewError):
        SiteServer.init(site_db.url)


def test_the_tables_mirror_the_sqlite_store(site, store):
    def sqlite_columns(table: str) -> list[str]:
        return [row[1] for row in store.db.execute(f"PRAGMA table_info({table})")]

    def server_columns(table: str) -> list[str]:
        rows = site.conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            [table],
        )
        return [row["column_name"] for row in rows]

    for table, columns in [("people", PEOPLE_COLUMNS), ("templates", TEMPLATE_COLUMNS)]:
        assert list(columns) == sqlite_columns(table) == server_columns(table)
    assert sqlite_columns("template_thumbnails") == server_columns("template_thumbnails")
    assert list(FORMER_NAME_COLUMNS) == sqlite_columns("former_names") == server_columns("former_names")[:2]
    assert [column for column in sqlite_columns("access_events") if column not in ("id", "event_uid")] == list(
        EVENT_COLUMNS
    )
    assert server_columns("access_events")[: len(EVENT_COLUMNS)] == list(EVENT_COLUMNS)


def test_status(site, door, site_db):
    site.enroll("Ada Lovelace", new_template())
    door.deliver_events([event("Front door", 1)])
    status = site.status()
    assert (status.people, status.templates, status.doors, status.events) == (1, 1, 1, 1)
    assert status.last_change == site.last_change() >= 1
    assert status.schema_version == len(SCHEMA)
    assert status.server_version.split(".")[0].isdigit()
    assert status.tls is False
    assert status.url == f"postgres@127.0.0.1:{site_db.server.port}/{site_db.name}"
    assert site_db.server.password not in str(status)


def test_an_unreachable_server_is_named_without_its_password(postgres):
    port = free_port()
    with pytest.raises(SiteUnreachableError, match=f"someone@127.0.0.1:{port}/site") as caught:
        SiteServer.connect(f"postgresql://someone:s3cret-pw@127.0.0.1:{port}/site", connect_timeout=2)
    assert "s3cret-pw" not in str(caught.value)
    with pytest.raises(SiteUnreachableError, match="password authentication failed") as caught:
        SiteServer.connect(postgres.url(password="wrong-password"))
    assert "wrong-password" not in str(caught.value)


def test_the_owner_may_connect_but_others_only_through_the_groups(site, site_db):
    """init leaves CONNECT to faceguard_admin and faceguard_kiosk: another login role is turned away."""
    stranger = site_db.login_role("stranger")
    with pytest.raises(SiteUnreachableError, match="permission denied for database.*CONNECT privilege"):
        SiteServer.connect(stranger)
    with psycopg.connect(site_db.login_role("admin", "faceguard_admin")) as admin:
        assert admin.execute("SELECT current_database()").fetchone() == (site_db.name,)
