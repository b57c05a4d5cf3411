"""A real PostgreSQL server for the site tests: started once per session (initdb into a temporary
folder, loopback only, fsync off), and a fresh database for each test, dropped with the door and
admin roles it made (roles are cluster-wide)."""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from faceguard.site.server import SiteServer

SUPERUSER = "postgres"
_DATABASES = itertools.count(1)


@dataclass(frozen=True)
class PostgresServer:
    port: int
    password: str
    folder: Path

    def url(self, dbname: str = "postgres", user: str = SUPERUSER, password: str | None = None) -> str:
        return f"postgresql://{user}:{password or self.password}@127.0.0.1:{self.port}/{dbname}"


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


def postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        pytest.fail("The PostgreSQL server binaries (initdb, pg_ctl) are missing: run 'make system-deps'.")
    return Path(initdb).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def as_server_user(*command: str | Path) -> list[str]:
    """``command`` run as user postgres when we are root (initdb refuses root), else as ourselves."""
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return [*prefix, *map(str, command)]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    bin_dir = postgres_bin()
    folder = Path(tempfile.mkdtemp(prefix="faceguard-pg-"))
    password = secrets.token_urlsafe(16)
    (folder / "superuser").write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        shutil.chown(folder / "superuser", "postgres", "postgres")
    data, port = folder / "data", free_port()
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder}"
        " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    run = {"check": True, "capture_output": True, "text": True, "timeout": 60}
    try:
        subprocess.run(
            as_server_user(
                bin_dir / "initdb", "-D", data, "-U", SUPERUSER, "--auth=scram-sha-256",
                f"--pwfile={folder / 'superuser'}", "-E", "UTF8", "--no-locale", "--no-sync",
            ),
            **run,
        )  # fmt: skip
        subprocess.run(
            as_server_user(
                bin_dir / "pg_ctl", "-D", data, "-l", folder / "log", "-w", "-t", "30", "-o", options, "start"
            ),
            **run,
        )
    except subprocess.CalledProcessError as error:
        log = folder / "log"
        details = error.stderr + (log.read_text() if log.exists() else "")
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {details}")
    try:
        yield PostgresServer(port, password, folder)
    finally:
        subprocess.run(as_server_user(bin_dir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"), **run)
        shutil.rmtree(folder, ignore_errors=True)


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
