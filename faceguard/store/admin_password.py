"""Where the admin password lives: its hash and the count of attempts that failed, two rows of the
settings table (``admin.`` keys, beside the kiosk's ``kiosk.`` settings, so no migration is needed).

Each change is written in one ``BEGIN IMMEDIATE`` transaction with its record in the admin log
(``faceguard.store.admin_log``): a password set, changed or reset, an attempt that failed and where.
Neither the hash nor a password typed is ever logged. Hashing and the delay rule are the caller's
(``faceguard.app.admin_password``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from faceguard.core.errors import AdminPasswordError
from faceguard.store.admin_log import log_admin_action
from faceguard.store.base import StoreBase
from faceguard.store.db import translate_errors, write_transaction
from faceguard.store.settings_table import put_setting
from faceguard.store.timestamps import from_text, to_text

HASH_KEY = "admin.password_hash"
FAILURES_KEY = "admin.failed_logins"
#: How a new hash came: the admin log's action for each.
SET, CHANGED, RESET = "admin_password_set", "admin_password_changed", "admin_password_reset"


@dataclass(frozen=True)
class Failures:
    """Attempts in a row that did not give the right password (an attempt still being checked counts),
    and when the last one began."""

    count: int = 0
    last: datetime | None = None


def password_hash(store: StoreBase) -> str | None:
    """The stored argon2 hash (None: no admin password has been set)."""
    with translate_errors(store.path):
        value = _get(store.db, HASH_KEY)
    return None if value is None else str(value)


def save_password_hash(store: StoreBase, encoded: str, action: str, expected: str | None) -> None:
    """Store ``encoded`` as the admin password's hash and forget the failed attempts, logged as
    ``action`` (SET, CHANGED or RESET). Unless resetting, the stored hash must still be ``expected``
    (the one the caller checked against, None for the first): a password another program set or
    changed meanwhile is not overwritten."""
    with translate_errors(store.path), write_transaction(store.db):
        if action != RESET and _get(store.db, HASH_KEY) != expected:
            raise AdminPasswordError(
                f"The admin password of {store.path} was set or changed by another program meanwhile; try again."
            )
        put_setting(store.db, HASH_KEY, encoded)
        put_setting(store.db, FAILURES_KEY, None)
        log_admin_action(store.db, action, None)


def failures(store: StoreBase) -> Failures:
    with translate_errors(store.path):
        return _failures(store.db)


def begin_attempt(store: StoreBase, moment: datetime, wait: Callable[[Failures, datetime], float]) -> float:
    """Count an attempt beginning at ``moment`` as failed until ``attempt_succeeded`` says otherwise,
    unless ``wait(failures, moment)`` says the caller must wait first: then nothing is written and those
    seconds are returned (0.0 when the attempt was counted). Reading and counting in one transaction
    makes programs that try at once wait for each other's failures."""
    with translate_errors(store.path), write_transaction(store.db):
        before = _failures(store.db)
        remaining = wait(before, moment)
        if remaining > 0:
            return remaining
        put_setting(store.db, FAILURES_KEY, {"count": before.count + 1, "last": to_text(moment)})
    return 0.0


def attempt_failed(store: StoreBase, where: str) -> None:
    """Log the wrong password just typed at ``where`` (a command or window), with the failures in a row."""
    with translate_errors(store.path), write_transaction(store.db):
        log_admin_action(store.db, "admin_login_failed", None, where=where, failures=_failures(store.db).count)


def attempt_succeeded(store: StoreBase) -> None:
    """The right password was given: failures start again from none."""
    with translate_errors(store.path), write_transaction(store.db):
        put_setting(store.db, FAILURES_KEY, None)


def _failures(db: sqlite_utils.Database) -> Failures:
    value = _get(db, FAILURES_KEY)
    if not isinstance(value, dict):
        return Failures()
    return Failures(int(value.get("count", 0)), from_text(value.get("last")))


def _get(db: sqlite_utils.Database, key: str) -> Any:
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return None if row is None else json.loads(row[0])
