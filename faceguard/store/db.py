"""Open the SQLite file safely and turn SQLite's failures into messages a person can act on.

Every connection runs in WAL mode (readers never block the writer, a killed process never leaves a
half-written transaction) with foreign keys on and a busy timeout, and every write transaction starts
with ``BEGIN IMMEDIATE`` so two writers queue on the timeout instead of failing with "database is
locked" when a read lock cannot be upgraded. ``secure_delete`` is on, so a deleted row (an erased
face, a purged snapshot) is overwritten with zeros rather than left in a free page.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from faceguard.core.errors import (
    CorruptDatabaseError,
    DatabaseLockedError,
    DiskFullError,
    NotADatabaseError,
    ReadOnlyDatabaseError,
    StoreError,
)
from faceguard.core.paths import data_dir
from faceguard.core.private_files import create_private_file, private_folder, tighten

log = logging.getLogger(__name__)

#: Environment variable that overrides the default database location (``--db`` overrides both).
DB_ENV = "FACEGUARD_DB"
#: How long a writer waits for another process's write transaction before giving up.
BUSY_TIMEOUT_MS = 10_000
#: The files SQLite keeps beside a database in WAL mode.
SIDE_FILES = ("-wal", "-shm")


def default_db_path() -> Path:
    """``$FACEGUARD_DB`` if set, else ``faceguard.db`` in the platform's user data folder."""
    override = os.environ.get(DB_ENV)
    if override:
        return Path(override).expanduser()
    return data_dir() / "faceguard.db"


def connect(path: Path) -> sqlite_utils.Database:
    """Open (creating if needed) the database at ``path`` with FaceGuard's connection settings."""
    path = Path(path)
    with translate_errors(path):
        if path.exists() and not path.is_file():
            raise NotADatabaseError(f"{path} is a folder, not a FaceGuard database file.")
        if not path.parent.exists():
            try:
                private_folder(path.parent)
            except OSError as error:
                raise ReadOnlyDatabaseError(
                    f"Cannot create the folder {path.parent} for the database ({error.strerror or error}). "
                    f"Choose another location with --db or ${DB_ENV}."
                ) from None
        if not path.exists() and not os.access(path.parent, os.W_OK):
            raise ReadOnlyDatabaseError(
                f"Cannot create the database {path}: the folder {path.parent} is read-only. "
                f"Choose another location with --db or ${DB_ENV}."
            )
        try:
            create_private_file(path)
        except OSError as error:
            raise ReadOnlyDatabaseError(
                f"Cannot create the database {path} ({error.strerror or error}). "
                f"Choose another location with --db or ${DB_ENV}."
            ) from None
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=True)
        connection.create_function("casefold", 1, _casefold, deterministic=True)
        db = sqlite_utils.Database(connection, execute_plugins=False)
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA synchronous = FULL")  # an enrollment that was confirmed survives a power cut
            db.execute("PRAGMA secure_delete = ON")  # deleted face data is zeroed, not left in free pages
        except BaseException:
            connection.close()
            raise
        return db


def make_private(path: Path) -> None:
    """Take group and other permissions away from a database FaceGuard can write, from its -wal and
    -shm files and from the folders of FaceGuard's data folder holding it (earlier versions made them
    0644 in 0755 folders); a copy FaceGuard cannot write (an auditor's read-only one) is left alone.

    New -wal and -shm files need nothing: SQLite creates them with the database file's permissions."""
    if not os.access(path, os.W_OK):
        return
    files = [path, *(Path(f"{path}{suffix}") for suffix in SIDE_FILES)]
    tightened = [each for each in [*files, *_own_folders(path.parent)] if tighten(each)]
    if tightened:
        log.info("Made private (owner only): %s", ", ".join(map(str, tightened)))


def _own_folders(folder: Path) -> list[Path]:
    """``folder`` and its parents up to FaceGuard's data folder, when it lies inside it."""
    folder, own = folder.resolve(), data_dir().resolve()
    return [each for each in (folder, *folder.parents) if each == own or own in each.parents]


def enable_wal(db: sqlite_utils.Database, path: Path) -> None:
    """Switch the file to WAL (persistent, so usually already done). The switch does not wait on the
    busy timeout, so when another process is switching the same new file at this moment, retry."""
    if not os.access(path, os.W_OK):
        return
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    with translate_errors(path):
        while db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            try:
                db.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError as error:
                if getattr(error, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)


def wipe_deleted(db: sqlite_utils.Database) -> bool:
    """After personal data was deleted: copy the write-ahead log into the file and truncate it, as
    the log still holds the pages from before the deletion. Whether that finished: a reader in
    another program (a kiosk mid-query) may hold the log for a moment; the next checkpoint, at the
    latest when the last connection closes, finishes it."""
    busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return not busy


def _casefold(text: str | None) -> str | None:
    """SQL ``casefold(x)``: case-insensitive matching beyond ASCII (SQLite's NOCASE folds only A-Z)."""
    return None if text is None else text.casefold()


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One atomic write: ``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


@contextlib.contextmanager
def translate_errors(path: Path) -> Iterator[None]:
    """Re-raise sqlite3 errors as StoreError subclasses whose message names the file and the fix."""
    try:
        yield
    except sqlite3.Error as error:
        raise translated(error, Path(path)) from error


def translated(error: sqlite3.Error, path: Path) -> StoreError:
    """The StoreError that explains ``error`` on the database ``path``."""
    text = str(error).lower()
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == sqlite3.SQLITE_NOTADB or "file is not a database" in text:
        return NotADatabaseError(
            f"{path} is not a FaceGuard database (it is not an SQLite file); it was left untouched."
        )
    if primary == sqlite3.SQLITE_FULL or "disk is full" in text:
        return DiskFullError(
            f"The disk holding {path} is full; the last change was not saved and everything stored "
            "before it is intact. Free some space and try again."
        )
    if primary == sqlite3.SQLITE_READONLY or "readonly" in text or "read-only" in text:
        return ReadOnlyDatabaseError(f"{path} is read-only; changes cannot be saved. Check the file's permissions.")
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text:
        return DatabaseLockedError(
            f"{path} stayed locked by another program for {BUSY_TIMEOUT_MS // 1000} s; nothing was changed. "
            "Try again, or close the other program."
        )
    if primary == sqlite3.SQLITE_CORRUPT or "malformed" in text:
        return CorruptDatabaseError(
            f"{path} is damaged ({error}). Restore it from a backup (faceguard db backup makes one)."
        )
    if primary == sqlite3.SQLITE_CANTOPEN or "unable to open" in text:
        return ReadOnlyDatabaseError(f"Cannot open {path}: check that the folder exists and is writable.")
    return StoreError(f"Database error in {path}: {error}.")
