"""A real PostgreSQL server for the site tests: started once per session (``tests.site.postgres``: initdb
into a temporary folder, loopback only, fsync off), and a fresh database for each test, dropped with the door and
admin roles it made (roles are cluster-wide)."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
import pytest
from psycopg import sql

from faceguard.site.server import SiteServer
from tests.site.postgres import PostgresError, PostgresServer, remove_postgres, start_postgres

_DATABASES = itertools.count(1)


@dataclass
class SiteDatabase:
    """A test's own database: its name, its owner's (the superuser's) URL, and login roles made for it."""

    server: PostgresServer
    name: str
    roles: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url(self.name)

    def login_role(self, prefix: str, *groups: str) -> str:
        """The URL of a new LOGIN role (dropped at the end of the test), a member of ``groups``."""
        role, password = f"{prefix}_{self.name}", secrets.token_urlsafe(12)
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password))
            )
            for group in groups:
                conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(group), sql.Identifier(role)))
        self.roles.append(role)
        return self.server.url(self.name, role, password)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    try:
        server = start_postgres()
    except PostgresError as error:
        pytest.fail(str(error))
    try:
        yield server
    finally:
        remove_postgres(server)


@pytest.fixture
def site_db(postgres: PostgresServer) -> Iterator[SiteDatabase]:
    """A fresh, empty database (``faceguard_<n>``) whose URL logs in as the superuser."""
    database = SiteDatabase(postgres, f"faceguard_{os.getpid()}_{next(_DATABASES)}")
    admin = postgres.url()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database.name)))
    try:
        yield database
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            roles = list(database.roles)
            with contextlib.suppress(psycopg.Error), psycopg.connect(database.url) as site:
                roles += [row[0] for row in site.execute("SELECT role FROM doors")]
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database.name)))
            for role in roles:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture
def site(site_db: SiteDatabase) -> Iterator[SiteServer]:
    """An initialised site database, connected as its owner."""
    with SiteServer.init(site_db.url) as server:
        yield server


@pytest.fixture
def door(site: SiteServer, site_db: SiteDatabase) -> Iterator[SiteServer]:
    """The door "Front door" of ``site``, connected as its own role."""
    credentials = site.add_door("Front door")
    with SiteServer.connect(credentials.url(site_db.url)) as connected:
        yield connected


def event(door: str, kiosk_event_id: int, **columns: object) -> dict[str, object]:
    """An access event as a kiosk delivers it: its uid, its id in the kiosk's replica, and its columns."""
    return {
        "time": f"2026-03-01T08:00:{kiosk_event_id:02d}.000+00:00",
        "door": door,
        "decision": "granted",
        "reason": "granted",
        "message": "Access granted.",
        "event_uid": uuid.uuid4().hex,
        "kiosk_event_id": kiosk_event_id,
        **columns,
    }


@pytest.fixture
def admin_url(site: SiteServer, site_db: SiteDatabase, capsys: pytest.CaptureFixture[str]) -> str:
    """A new administrator's URL, from ``faceguard server add-admin`` (its role, the whole server's, is
    named after the test's database and dropped with it)."""
    from faceguard.cli import main

    assert main(["server", "add-admin", f"ada {site_db.name}", "--url", site_db.url]) == 0
    site_db.roles.append(f"admin_ada_{site_db.name}")
    found = re.search(r"postgresql://\S+", capsys.readouterr().out)
    assert found is not None
    return found.group(0)
