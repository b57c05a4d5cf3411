"""Connecting to the site's PostgreSQL server, and its failures as messages an operator can act on.

A URL is libpq's (``postgresql://user:password@host:5432/faceguard?sslmode=verify-full``, or its
``key=value`` form). Messages name the server as ``user@host:port/database``: never the password.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import psycopg
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import DictRow, dict_row

from faceguard.core.errors import ConflictError, InvalidInputError, SiteUnreachableError, StoreError

#: The environment variable the ``faceguard server`` commands take the server's URL from.
SERVER_URL_ENV = "FACEGUARD_SERVER_URL"
#: How a connection notices a network that went silent without closing anything (a cable pulled, a
#: router gone): TCP keepalives from 10 s of quiet, 3 missed 3 s apart, and data unacknowledged for 15 s
#: (libpq's options; a URL may set its own). Without them a kiosk's link waited on a dead connection for
#: the kernel's ~15 minutes, still saying it was online.
DEAD_LINK = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 3,
    "keepalives_count": 3,
    "tcp_user_timeout": 15_000,
}
#: One connection to the server, whose rows are dicts (column name → value).
SiteConnection = psycopg.Connection[DictRow]


def open_connection(url: str, connect_timeout: float = 5) -> SiteConnection:
    """An autocommit connection to ``url`` (writes open their own transactions); SiteUnreachableError
    naming the server when it cannot be reached or refuses the login."""
    where = describe(url)
    try:
        given = conninfo_to_dict(url)
        conninfo = make_conninfo(url, **{key: value for key, value in DEAD_LINK.items() if key not in given})
        return psycopg.connect(
            conninfo,
            autocommit=True,
            row_factory=dict_row,
            connect_timeout=max(2, math.ceil(connect_timeout)),  # libpq counts whole seconds, at least 2
            application_name="faceguard",
        )
    except psycopg.ProgrammingError as error:
        raise InvalidInputError(f"{where} is not a PostgreSQL URL libpq understands: {error}") from None
    except psycopg.OperationalError as error:
        reason = " ".join(line.strip() for line in str(error).splitlines() if line.strip()).rstrip(".")
        raise SiteUnreachableError(
            f"Cannot connect to the site server {where} ({reason or type(error).__name__}). Check that the "
            "server runs and is reachable from this computer, and the user name and password in the URL."
        ) from None


def describe(url: str) -> str:
    """``user@host:port/database`` of ``url`` (libpq's defaults where it names none), without its password."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        raise InvalidInputError(
            "The site server URL is not a PostgreSQL connection URL; write it as "
            "postgresql://USER:PASSWORD@HOST:5432/DATABASE."
        ) from None
    user = params.get("user") or "(your login name)"
    host = params.get("host") or params.get("hostaddr") or "localhost"
    return f"{user}@{host}:{params.get('port') or 5432}/{params.get('dbname') or user}"


@contextlib.contextmanager
def translate_errors(conn: SiteConnection, doing: str) -> Iterator[None]:
    """Re-raise psycopg's errors while trying to ``doing`` (e.g. "enroll Ada") as FaceGuard errors naming
    the server and the fix."""
    try:
        yield
    except errors.InsufficientPrivilege as error:
        raise StoreError(
            f"The site server did not let the role {conn.info.user} {doing}: {_first_line(error)}. Doors may only "
            "read the site and deliver their own events; changes need a member of faceguard_admin."
        ) from None
    except errors.UniqueViolation as error:
        raise ConflictError(f"The site server could not {doing}: {_first_line(error)}.") from None
    except (errors.CheckViolation, errors.NotNullViolation, errors.DataError) as error:
        raise InvalidInputError(f"The site server could not {doing}: {_first_line(error)}.") from None
    except psycopg.Error as error:
        if conn.broken or conn.closed:
            raise SiteUnreachableError(
                f"The connection to the site server {conn.info.user}@{conn.info.host}:{conn.info.port} broke while "
                f"trying to {doing} ({_first_line(error)}); nothing of it was saved. Try again when the server is back."
            ) from None
        raise StoreError(f"The site server could not {doing}: {_first_line(error)}.") from None


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0].rstrip(".")
