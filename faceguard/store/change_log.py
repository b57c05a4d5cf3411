"""The change log: which people's templates or status changed, written by triggers (so by any process)
and read by galleries in other processes to stay in step without reloading everything."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import timedelta

from faceguard.core.errors import ReadOnlyDatabaseError
from faceguard.store.base import guarded
from faceguard.store.db import translated, write_transaction
from faceguard.store.settings_table import SettingsTable, put_setting
from faceguard.store.timestamps import now

#: Change-log rows older than this are pruned when a writer opens the file; a gallery that has been
#: away longer simply reloads in full.
CHANGE_LOG_RETENTION = timedelta(days=7)
#: The setting that records the last change-log position pruned away.
_PRUNED_THROUGH = "changes_pruned_through"


@dataclass(frozen=True)
class ChangeBatch:
    """People whose templates or status changed after a change-log position."""

    last_seq: int
    person_ids: frozenset[int]
    complete: bool  # False when the log was pruned past the caller's position: reload everything


class ChangeLog(SettingsTable):
    """Reads of the change log, and its pruning (whose mark is kept in the settings table)."""

    @guarded
    def last_change(self) -> int:
        """The change log's current position (what ``changes_after`` will count from)."""
        last = self.db.execute("SELECT max(seq) FROM changes").fetchone()[0] or 0
        return max(last, int(self.get_setting(_PRUNED_THROUGH, 0)))

    @guarded
    def changes_after(self, seq: int) -> ChangeBatch:
        """Who changed since change-log position ``seq`` (0 = from the beginning)."""
        rows = self.db.execute("SELECT seq, person_id FROM changes WHERE seq > ? ORDER BY seq", [seq]).fetchall()
        pruned_through = int(self.get_setting(_PRUNED_THROUGH, 0))
        last = rows[-1][0] if rows else max(seq, pruned_through)
        return ChangeBatch(last, frozenset(row[1] for row in rows), complete=seq >= pruned_through)

    def _prune_change_log(self) -> None:
        """Drop change-log rows older than the retention (best effort: skipped on a read-only file)."""
        cutoff = (now() - CHANGE_LOG_RETENTION).strftime("%Y-%m-%dT%H:%M:%S")
        row = self.db.execute("SELECT max(seq) FROM changes WHERE time < ?", [cutoff]).fetchone()
        if row[0] is None:
            return
        try:
            with write_transaction(self.db):
                self.db.execute("DELETE FROM changes WHERE seq <= ?", [row[0]])
                put_setting(self.db, _PRUNED_THROUGH, row[0])
        except sqlite3.OperationalError as error:
            if not isinstance(translated(error, self.path), ReadOnlyDatabaseError):
                raise
