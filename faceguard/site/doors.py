"""Doors: each kiosk logs in to the site server as a role of its own, a member of ``faceguard_kiosk``,
whose URL (password included) is handed out once, when the door is added."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from faceguard.core.errors import ConflictError, InvalidInputError
from faceguard.site.connection import SiteConnection, translate_errors
from faceguard.site.schema import ADMIN_ROLE, KIOSK_ROLE
from faceguard.site.scram import scram_verifier

ROLE_PREFIX = "door_"
ADMIN_PREFIX = "admin_"
#: PostgreSQL truncates identifiers longer than this.
_MAX_IDENTIFIER = 63


@dataclass(frozen=True)
class DoorCredentials:
    """A new door's login: its name, its role and the password, shown once."""

    door: str
    role: str
    password: str

    def __repr__(self) -> str:  # never print the password by accident (a log of the object)
        return f"DoorCredentials(door={self.door!r}, role={self.role!r}, password=…)"

    def url(self, server_url: str) -> str:
        """The URL the door's kiosk connects with (``login_url``)."""
        return login_url(server_url, self.role, self.password)


@dataclass(frozen=True)
class AdminCredentials:
    """A new administrator's login: its role and the password, shown once."""

    role: str
    password: str

    def __repr__(self) -> str:
        return f"AdminCredentials(role={self.role!r}, password=…)"

    def url(self, server_url: str) -> str:
        return login_url(server_url, self.role, self.password)


def login_url(server_url: str, role: str, password: str) -> str:
    """``server_url``'s host, port, database and options (sslmode, sslrootcert…) with ``role`` and
    ``password`` as the login."""
    params = {key: value for key, value in conninfo_to_dict(server_url).items() if value is not None}
    params.pop("user", None)
    params.pop("password", None)
    host, port, dbname = params.pop("host", ""), params.pop("port", ""), params.pop("dbname", "")
    netloc = f"{quote(role, safe='')}:{quote(password, safe='')}@"
    if host and not str(host).startswith("/") and "," not in str(host):
        netloc += f"[{host}]" if ":" in str(host) else str(host)
    elif host:
        params["host"] = host  # a unix socket folder, or several hosts: an option of its own
    if port:
        netloc += f":{port}"
    query = urlencode({key: str(value) for key, value in params.items()})
    return f"postgresql://{netloc}/{quote(str(dbname), safe='')}" + (f"?{query}" if query else "")


def door_role(name: str) -> str:
    """The role of the door called ``name``: ``door_`` and the name in lower case, each run of other
    characters than a-z and 0-9 as one ``_`` ("Front door 2" → ``door_front_door_2``)."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    if not slug:
        raise InvalidInputError(f"A door's name needs a letter or digit (a-z, 0-9) to name its role: {name!r}.")
    role = ROLE_PREFIX + slug
    if len(role) > _MAX_IDENTIFIER:
        raise InvalidInputError(f"The door name {name!r} is too long for a role name; use at most 58 characters.")
    return role


def add_door(conn: SiteConnection, name: str) -> DoorCredentials:
    """Create the door ``name``: its LOGIN role (a member of faceguard_kiosk, with a new random password)
    and its row in ``doors``, in one transaction. Needs a role allowed to create roles (the site's owner)."""
    name = name.strip()
    role = door_role(name)
    password = secrets.token_urlsafe(24)
    with translate_errors(conn, f"add the door {name!r}"), conn.transaction():
        taken = conn.execute("SELECT name FROM doors WHERE name = %s OR role = %s", [name, role]).fetchone()
        if taken is not None:
            raise ConflictError(f"The site already has a door {taken['name']!r} (role {role}); choose another name.")
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone() is not None:
            raise ConflictError(
                f"The server already has a role {role} (of another site or database on it); choose another door name."
            )
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                sql.Identifier(role), sql.Literal(scram_verifier(password)), sql.Identifier(KIOSK_ROLE)
            )
        )
        conn.execute("INSERT INTO doors (name, role) VALUES (%s, %s)", [name, role])
    return DoorCredentials(name, role, password)


def add_admin(conn: SiteConnection, name: str) -> AdminCredentials:
    """Create an administrator's LOGIN role ``admin_<name>`` (a member of faceguard_admin, with a new random
    password). Needs a role allowed to create roles (the site's owner)."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    if not slug or len(slug) > _MAX_IDENTIFIER - len(ADMIN_PREFIX):
        raise InvalidInputError(f"An administrator's name needs 1 to 57 letters or digits (a-z, 0-9): {name!r}.")
    role, password = ADMIN_PREFIX + slug, secrets.token_urlsafe(24)
    with translate_errors(conn, f"add the administrator {name!r}"), conn.transaction():
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone() is not None:
            raise ConflictError(f"The server already has a role {role}; choose another name.")
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                sql.Identifier(role), sql.Literal(scram_verifier(password)), sql.Identifier(ADMIN_ROLE)
            )
        )
    return AdminCredentials(role, password)
