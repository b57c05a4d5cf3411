"""``SiteServer``: one connection to the site's PostgreSQL server, and everything done over it.

Who may do what is the server's to decide, by the role the URL logs in as: the site's owner (``init``,
``migrate``, ``add_door``), a member of ``faceguard_admin`` (people, templates, the event log), or a
door's role (replication reads, delivery of its own events).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from psycopg import sql

from faceguard.site import delivery, door_rules, doors, event_log, people, replication, schema
from faceguard.site.connection import SiteConnection, describe, open_connection, translate_errors
from faceguard.site.doors import AdminCredentials, DoorCredentials
from faceguard.store.site_replica import door_setting
from faceguard.store.templates import NewTemplate


@dataclass(frozen=True)
class SiteStatus:
    """What ``faceguard server status`` shows."""

    schema_version: int
    schema_steps: int  # how many steps this FaceGuard knows
    people: int
    templates: int
    doors: int
    events: int
    last_change: int
    server_version: str
    tls: bool
    url: str  # user@host:port/database, without the password


class SiteServer:
    """One connection to the site server (autocommit; each write is one transaction of its own)."""

    def __init__(self, conn: SiteConnection, url: str) -> None:
        self.conn = conn
        self.url = url
        self._listening = False

    @classmethod
    def connect(cls, url: str, *, connect_timeout: float = 5) -> SiteServer:
        """Connect to ``url`` (SiteUnreachableError naming the server when that fails), refusing a
        database written by a newer FaceGuard (SchemaTooNewError)."""
        conn = open_connection(url, connect_timeout)
        try:
            with translate_errors(conn, "read the schema version"):
                schema.check_schema(conn)
        except BaseException:
            conn.close()
            raise
        return cls(conn, url)

    @classmethod
    def init(cls, url: str, *, connect_timeout: float = 5) -> SiteServer:
        """Make ``url``'s database a site database: the schema, the group roles ``faceguard_admin`` and
        ``faceguard_kiosk``, their privileges, and CONNECT for those two only. Idempotent. Needs the
        database's owner with CREATEROLE (or a superuser)."""
        server = cls.connect(url, connect_timeout=connect_timeout)
        try:
            server.migrate()
            with translate_errors(server.conn, "limit who may connect to the database"):
                server.conn.execute(
                    sql.SQL("REVOKE ALL ON DATABASE {db} FROM PUBLIC; GRANT CONNECT ON DATABASE {db} TO {a}, {k}")
                    .format(
                        db=sql.Identifier(server.conn.info.dbname),
                        a=sql.Identifier(schema.ADMIN_ROLE),
                        k=sql.Identifier(schema.KIOSK_ROLE),
                    )
                    .as_bytes(server.conn),
                    prepare=False,
                )
        except BaseException:
            server.close()
            raise
        return server

    def migrate(self) -> list[str]:
        """Apply the schema steps this database lacks; their names."""
        with translate_errors(self.conn, "update the site's schema"):
            return schema.migrate(self.conn)

    def status(self) -> SiteStatus:
        with translate_errors(self.conn, "read the site's status"):
            row = self.conn.execute(
                "SELECT (SELECT count(*) FROM people) AS people, (SELECT count(*) FROM templates) AS templates,"
                " (SELECT count(*) FROM doors) AS doors, (SELECT count(*) FROM access_events) AS events,"
                " (SELECT coalesce(max(seq), 0) FROM changes) AS last_change, current_setting('server_version') AS v"
            ).fetchone()
            version = schema.schema_version(self.conn)
        assert row is not None
        return SiteStatus(
            schema_version=version,
            schema_steps=len(schema.SCHEMA),
            people=row["people"],
            templates=row["templates"],
            doors=row["doors"],
            events=row["events"],
            last_change=row["last_change"],
            server_version=row["v"],
            tls=bool(self.conn.pgconn.ssl_in_use),
            url=describe(self.url),
        )

    # doors

    def add_admin(self, name: str) -> AdminCredentials:
        """A login for an administrator (a member of faceguard_admin), whose password is shown once."""
        return doors.add_admin(self.conn, name)

    def add_door(self, name: str) -> DoorCredentials:
        """A new door's role and password (see ``DoorCredentials.url``): shown once, never stored here."""
        return doors.add_door(self.conn, name)

    # replication reads (a door's role)

    def door_name(self) -> str | None:
        """The door this connection's role belongs to (None: not a door's role)."""
        with translate_errors(self.conn, "read the door"):
            row = self.conn.execute("SELECT faceguard_current_door() AS door").fetchone()
        return None if row is None else row["door"]

    def last_change(self) -> int:
        with translate_errors(self.conn, "read the change log"):
            return replication.last_change(self.conn)

    def changes_after(self, seq: int) -> tuple[int, frozenset[int]]:
        """(the last change-log position seen, the ids of the people changed) after ``seq``."""
        with translate_errors(self.conn, "read the change log"):
            return replication.changes_after(self.conn, seq)

    def people_rows(self, person_ids: Collection[int] | None) -> list[dict[str, Any]]:
        with translate_errors(self.conn, "read people"):
            return replication.people_rows(self.conn, person_ids)

    def template_rows(self, person_ids: Collection[int] | None) -> list[dict[str, Any]]:
        with translate_errors(self.conn, "read face templates"):
            return replication.template_rows(self.conn, person_ids)

    def former_name_rows(self, person_ids: Collection[int] | None) -> list[dict[str, Any]]:
        with translate_errors(self.conn, "read former names"):
            return replication.former_name_rows(self.conn, person_ids)

    def settings(self) -> dict[str, str]:
        with translate_errors(self.conn, "read the settings"):
            return replication.settings(self.conn)

    def listen(self) -> None:
        """Subscribe to the change log's notifications (``wait_for_change``)."""
        with translate_errors(self.conn, "listen for changes"):
            self.conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(schema.CHANGES_CHANNEL)))
        self._listening = True

    def wait_for_change(self, timeout: float) -> bool:
        """Whether the change log grew within ``timeout`` seconds (notifications already received count;
        a burst is taken as one). Listens first if ``listen`` was not called."""
        if not self._listening:
            self.listen()
        with translate_errors(self.conn, "wait for changes"):
            heard = False
            for _ in self.conn.notifies(timeout=max(0.0, timeout), stop_after=1):
                heard = True
            if heard:
                for _ in self.conn.notifies(timeout=0):  # take the rest of the burst with it
                    pass
        return heard

    def door_rule_rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """The site's access groups, group doors and holidays (``faceguard.site.door_rules``)."""
        with translate_errors(self.conn, "read the door rules"):
            return door_rules.rule_rows(self.conn)

    def publish_door_rules(self, rows: dict[str, list[tuple[Any, ...]]]) -> None:
        """Replace the site's door rules (an admin's), in one transaction."""
        with translate_errors(self.conn, "publish the door rules"):
            door_rules.publish_rules(self.conn, rows)

    # delivery (a door's role)

    def deliver_events(self, rows: Sequence[dict[str, Any]]) -> int:
        """Insert the door's events (``faceguard.site.delivery``) in one transaction; how many were new."""
        return delivery.deliver_events(self.conn, rows)

    # administration (a member of faceguard_admin, or the owner)

    def enroll(self, name: str, template: NewTemplate, **details: Any) -> int:
        return people.enroll(self.conn, name, template, **details)

    def add_person(self, name: str, **details: Any) -> int:
        return people.add_person(self.conn, name, **details)

    def add_template(self, person_id: int, template: NewTemplate) -> int:
        return people.add_template(self.conn, person_id, template)

    def set_settings(self, values: Mapping[str, Any], door: str | None = None) -> None:
        """Store settings (JSON values, as the SQLite store keeps them) for every door, or for ``door``
        only (``door_setting``: it wins over the site's at that door), in one transaction."""
        rows = [(key if door is None else door_setting(door, key), json.dumps(value)) for key, value in values.items()]
        with translate_errors(self.conn, "save the settings"), self.conn.transaction(), self.conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO settings (key, value) VALUES (%s, %s)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                rows,
            )

    def door_names(self) -> list[str]:
        with translate_errors(self.conn, "list the doors"):
            return [row["name"] for row in self.conn.execute("SELECT name FROM doors ORDER BY name")]

    def door_settings(self, door: str) -> dict[str, Any]:
        """The settings set for ``door`` only (key → JSON value), without their ``door_setting`` prefix."""
        prefix = door_setting(door, "")
        with translate_errors(self.conn, f"read the settings of door {door!r}"):
            rows = self.conn.execute("SELECT key, value FROM settings WHERE starts_with(key, %s)", [prefix])
            return {row["key"].removeprefix(prefix): json.loads(row["value"]) for row in rows}

    def replace_door_settings(self, door: str, values: Mapping[str, Any]) -> None:
        """Make ``values`` the only settings set for ``door`` (the site's apply to the rest), in one transaction."""
        prefix = door_setting(door, "")
        rows = [(prefix + key, json.dumps(value)) for key, value in values.items()]
        with translate_errors(self.conn, f"save the settings of door {door!r}"), self.conn.transaction():
            self.conn.execute("DELETE FROM settings WHERE starts_with(key, %s)", [prefix])
            with self.conn.cursor() as cursor:
                cursor.executemany("INSERT INTO settings (key, value) VALUES (%s, %s)", rows)

    def update_person(self, person_id: int, **changes: Any) -> dict[str, Any]:
        return people.update_person(self.conn, person_id, **changes)

    def remove_person(self, person_id: int) -> None:
        people.remove_person(self.conn, person_id)

    def people(self) -> list[dict[str, Any]]:
        with translate_errors(self.conn, "list people"):
            return people.people(self.conn)

    def events_after(self, seq: int, limit: int) -> list[dict[str, Any]]:
        """The delivered events after position ``seq``, in the order received (an admin's replica)."""
        with translate_errors(self.conn, "read the access log"):
            return event_log.events_after(self.conn, seq, limit)

    def events(self, door: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        with translate_errors(self.conn, "read the access log"):
            return event_log.events(self.conn, door, limit)

    # lifetime

    def sever(self) -> None:
        """Cut the connection under a call stuck on a silent network (from another thread): the call
        fails at once with a broken connection, as if the server had gone."""
        with contextlib.suppress(OSError), socket.socket(fileno=os.dup(self.conn.pgconn.socket)) as raw:
            raw.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> SiteServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
