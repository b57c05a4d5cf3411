"""The settings table: named JSON values (what ``faceguard.app.settings`` reads and writes)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import sqlite_utils

from faceguard.store.admin_log import log_admin_action
from faceguard.store.base import StoreBase, guarded
from faceguard.store.db import write_transaction


def put_setting(db: sqlite_utils.Database, key: str, value: Any) -> None:
    """Set one setting to a JSON value (None: delete it) in the caller's transaction, without an admin
    record: FaceGuard's own bookkeeping (positions, counters), not an administrator's choice."""
    if value is None:
        db.execute("DELETE FROM settings WHERE key = ?", [key])
    else:
        db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", [key, json.dumps(value)])


class SettingsTable(StoreBase):
    """Reads and writes of named JSON values."""

    @guarded
    def get_setting(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return default if row is None else json.loads(row[0])

    def set_setting(self, key: str, value: Any) -> None:
        self.set_settings({key: value})

    @guarded
    def set_settings(self, values: Mapping[str, Any]) -> None:
        """Store several settings (JSON values) in one transaction; the keys whose value changed are
        recorded in the admin log."""
        with write_transaction(self.db):
            stored = dict(self.db.execute("SELECT key, value FROM settings").fetchall())
            texts = {key: json.dumps(value) for key, value in values.items()}
            changed = {key: text for key, text in texts.items() if stored.get(key) != text}
            self.db.conn.executemany("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", changed.items())
            if changed:
                log_admin_action(self.db, "settings_changed", None, keys=sorted(changed))
