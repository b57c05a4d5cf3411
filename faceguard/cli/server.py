"""Site server commands: server init / migrate / status / add-door / add-admin / settings / publish-rules.

These work on the site's PostgreSQL server, not on an SQLite --db file, so the admin password gate
does not apply to them: the server checks the PostgreSQL credentials in --url instead (the site's
owner for init, migrate and add-door).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from typing import Any

from faceguard.app.settings import PREFIX, KioskSettings
from faceguard.cli.common import database_options, open_store, print_fields, yes_no
from faceguard.core.errors import InvalidInputError
from faceguard.site.connection import SERVER_URL_ENV
from faceguard.site.server import SiteServer

CREDENTIALS = (
    "These commands log in to the site's PostgreSQL server with the credentials in --url: those of the "
    "PostgreSQL role that owns the site database (able to create roles), not FaceGuard's admin password. "
    "Keep that URL out of the shell history: set $FACEGUARD_SERVER_URL instead of typing --url."
)


def add_server_commands(commands: Any) -> None:
    server_url = argparse.ArgumentParser(add_help=False)
    server_url.add_argument(
        "--url",
        metavar="URL",
        help=f"the site server, postgresql://USER:PASSWORD@HOST:5432/DATABASE (default: ${SERVER_URL_ENV})",
    )
    server = commands.add_parser(
        "server",
        help="set up and look after the site's PostgreSQL server (site mode: many doors, one site)",
        description="Set up the site's central PostgreSQL server, which admin PCs and kiosks share.",
        epilog=CREDENTIALS,
    ).add_subparsers(dest="action", required=True)
    server.add_parser(
        "init",
        parents=[server_url],
        help="make the database a site database: schema, roles faceguard_admin and faceguard_kiosk, privileges",
        epilog=CREDENTIALS,
    ).set_defaults(run=run_init)
    server.add_parser(
        "migrate", parents=[server_url], help="update the site database's schema", epilog=CREDENTIALS
    ).set_defaults(run=run_migrate)
    server.add_parser(
        "status",
        parents=[server_url],
        help="schema version, counts, last change, server version, TLS",
        epilog=CREDENTIALS,
    ).set_defaults(run=run_status)
    add_door = server.add_parser(
        "add-door",
        parents=[server_url],
        help="add a door: a login role of its own, whose connection URL is shown once",
        epilog=CREDENTIALS,
    )
    add_door.add_argument("name", metavar="NAME", help='the door\'s name, e.g. "Front door"')
    add_door.set_defaults(run=run_add_door)
    add_admin = server.add_parser(
        "add-admin",
        parents=[server_url],
        help="add an administrator: a login of the faceguard_admin group, whose connection URL is shown once",
        epilog=CREDENTIALS,
    )
    add_admin.add_argument("name", metavar="NAME", help="who it is for, e.g. ada")
    add_admin.set_defaults(run=run_add_admin)
    settings = server.add_parser(
        "settings",
        parents=[server_url],
        help="show or set the site's kiosk settings, or one door's (its voting, liveness mode, lock), which win there",
        epilog=CREDENTIALS,
    )
    settings.add_argument("--door", metavar="NAME", help="set them for this door only")
    settings.add_argument(
        "assignments", nargs="*", metavar="FIELD=VALUE", help="e.g. k=2 liveness=active door_pulse=6 (JSON or text)"
    )
    settings.set_defaults(run=run_settings)
    publish = server.add_parser(
        "publish-rules",
        parents=[server_url, database_options()],
        help="make the door rules (access groups, their doors and schedules, holidays) edited in the admin "
        "window on --db the site's: every kiosk takes them within seconds",
        epilog=CREDENTIALS,
    )
    publish.set_defaults(run=run_publish_rules)


def server_url(args: argparse.Namespace) -> str:
    """--url, else $FACEGUARD_SERVER_URL."""
    url: str | None = args.url or os.environ.get(SERVER_URL_ENV)
    if not url:
        raise InvalidInputError(
            f"Which site server? Give --url postgresql://USER:PASSWORD@HOST:5432/DATABASE or set ${SERVER_URL_ENV}."
        )
    return url


def run_init(args: argparse.Namespace) -> int:
    with SiteServer.init(server_url(args)) as server:
        status = server.status()
    print(
        f"{status.url} is a FaceGuard site database (schema {status.schema_version}/{status.schema_steps}), "
        "with the roles faceguard_admin (admin PCs) and faceguard_kiosk (doors)."
    )
    print("Next: faceguard server add-door NAME, for each door.")
    return 0


def run_migrate(args: argparse.Namespace) -> int:
    with SiteServer.connect(server_url(args)) as server:
        applied = server.migrate()
        status = server.status()
    done = f"applied {', '.join(applied)}" if applied else "already up to date"
    print(f"{status.url}: schema {status.schema_version}/{status.schema_steps}, {done}.")
    return 0


def run_status(args: argparse.Namespace) -> int:
    with SiteServer.connect(server_url(args)) as server:
        status = server.status()
    print_fields(
        [
            ("server", status.url),
            ("schema", f"{status.schema_version}/{status.schema_steps}"),
            ("people", status.people),
            ("photos", status.templates),
            ("doors", status.doors),
            ("access events", status.events),
            ("last change", status.last_change),
            ("PostgreSQL", status.server_version),
            ("TLS", yes_no(status.tls)),
        ]
    )
    if not status.tls:
        print(
            "The connection is not encrypted: use TLS (sslmode=verify-full in the URL) beyond a trusted network.",
            file=sys.stderr,
        )
    return 0


def run_add_door(args: argparse.Namespace) -> int:
    url = server_url(args)
    with SiteServer.connect(url) as server:
        credentials = server.add_door(args.name)
    print(f"Added the door {credentials.door!r} (PostgreSQL role {credentials.role}). Its connection URL:")
    print()
    print(f"  {credentials.url(url)}")
    print()
    print(
        "Store it in that kiosk's configuration now: it holds the door's password, which is shown only this "
        f"once (if it is lost, give the role a new one on the server: ALTER ROLE {credentials.role} PASSWORD …)."
    )
    return 0


def run_publish_rules(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        rows = store.door_rule_rows()
    with SiteServer.connect(server_url(args)) as server:
        server.publish_door_rules(rows)
    groups, doors, holidays = (len(rows[table]) for table in ("access_groups", "group_doors", "holidays"))
    print(f"Published {groups} access group(s) with {doors} door schedule(s) and {holidays} holiday(s) from {args.db}.")
    return 0


def run_add_admin(args: argparse.Namespace) -> int:
    url = server_url(args)
    with SiteServer.connect(url) as server:
        credentials = server.add_admin(args.name)
    print(f"Added the administrator login {credentials.role}. Its connection URL, shown only this once:")
    print()
    print(f"  {credentials.url(url)}")
    print()
    print("On that admin's PC: FACEGUARD_SITE_URL=<it> faceguard admin --db site-replica.db")
    return 0


def run_settings(args: argparse.Namespace) -> int:
    values = {PREFIX + name: value for name, value in (kiosk_setting(text) for text in args.assignments)}
    with SiteServer.connect(server_url(args)) as server:
        if values:
            server.set_settings(values, door=args.door)
            where = f"door {args.door!r}" if args.door else "every door"
            print(f"Saved for {where}: {', '.join(args.assignments)}. Kiosks take them within seconds.")
        stored = server.settings()
    print_fields(sorted(stored.items()))
    return 0


def kiosk_setting(text: str) -> tuple[str, Any]:
    """``FIELD=VALUE`` checked as the kiosk settings check it: (field, value)."""
    name, equals, raw = text.partition("=")
    fields = {field.name: field for field in dataclasses.fields(KioskSettings)}
    if not equals or name not in fields:
        raise InvalidInputError(f"{text!r} is not FIELD=VALUE with one of: {', '.join(sorted(fields))}.")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw  # plain text, e.g. liveness=active
    default = getattr(KioskSettings(), name)
    if isinstance(value, int) and not isinstance(value, bool) and isinstance(default, float):
        value = float(value)
    if default is not None and type(value) is not type(default):
        raise InvalidInputError(f"{name} takes a {type(default).__name__}, not {raw!r}.")
    dataclasses.replace(KioskSettings(), **{name: value})  # its checks: InvalidInputError naming the rule
    return name, value
