"""What every part of ``Store`` shares: the connection, the file's path, and SQLite errors translated."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import sqlite_utils

from faceguard.store import keys
from faceguard.store.db import translate_errors
from faceguard.store.sealing import Sealer

Method = TypeVar("Method", bound=Callable[..., Any])


class StoreBase:
    """One connection to the database at ``path``; the parts of ``Store`` read and write through it."""

    def __init__(self, db: sqlite_utils.Database, path: Path) -> None:
        self.db = db
        self.path = path
        self._sealers: dict[str, Sealer] = {}

    def sealer(self) -> Sealer:
        """What seals and opens this database's face data: its key is read from the table each time
        (a rotation by another program is followed), looked up once per key."""
        (wanted,) = self.db.execute("SELECT key_id FROM face_data_key").fetchone()
        if wanted not in self._sealers:
            self._sealers[wanted] = Sealer(keys.find_key(wanted, self.path))
        return self._sealers[wanted]

    def _query(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        """The rows of ``sql`` as dicts keyed by column name."""
        cursor = self.db.execute(sql, params)
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]


def guarded(method: Method) -> Method:
    """Run a ``Store`` method with SQLite's failures re-raised as StoreErrors naming the file."""

    @functools.wraps(method)
    def wrapper(self: StoreBase, *args: Any, **kwargs: Any) -> Any:
        with translate_errors(self.path):
            return method(self, *args, **kwargs)

    return cast(Method, wrapper)


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The id of the row an INSERT through ``cursor`` added."""
    if cursor.lastrowid is None:
        raise RuntimeError("The cursor has not inserted a row.")
    return cursor.lastrowid
