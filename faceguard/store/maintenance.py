"""Looking after the database file: counts, a soundness check and an online backup."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from faceguard.core.errors import ConflictError, StoreError
from faceguard.core.private_files import create_private_file
from faceguard.store import keys
from faceguard.store.base import StoreBase, guarded
from faceguard.store.db import write_transaction
from faceguard.store.migrations import scrub
from faceguard.store.sealing import OVERHEAD, Sealer, reseal, unreadable_rows
from faceguard.store.timestamps import now


@dataclass(frozen=True)
class KeyRotation:
    """What ``Store.rotate_key`` did: the key ids before and after, the rows encrypted anew by kind,
    and where the old key was put aside."""

    old_key_id: str
    new_key_id: str
    counts: dict[str, int]
    retired_to: str


class Maintenance(StoreBase):
    """What ``faceguard db`` and the admin window ask of the file as a whole."""

    @guarded
    def counts(self) -> dict[str, int]:
        tables = ["people", "templates", "access_events"]
        return {table: self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}

    @guarded
    def check(self) -> list[str]:
        """Problems found by SQLite's integrity and foreign-key checks and FaceGuard's own rules
        (an empty list means the file is sound)."""
        problems = [row[0] for row in self.db.execute("PRAGMA integrity_check").fetchall() if row[0] != "ok"]
        problems += [
            f"{row[0]} row {row[1]} points to a missing {row[2]} row"
            for row in self.db.execute("PRAGMA foreign_key_check").fetchall()
        ]
        for model_id, sizes in self.db.execute(
            "SELECT model_id, group_concat(DISTINCT length(encoding)) FROM templates GROUP BY model_id"
        ).fetchall():
            if "," in str(sizes) or (int(sizes) - OVERHEAD) % 4:
                problems.append(
                    f"templates of model {model_id} have encodings of different sizes ({sizes} bytes encrypted)"
                )
        orphans = self.db.execute(
            "SELECT count(*) FROM templates t LEFT JOIN template_thumbnails h ON h.template_id = t.id "
            "WHERE h.template_id IS NULL"
        ).fetchone()[0]
        if orphans:
            problems.append(f"{orphans} templates have no face thumbnail (they cannot be re-encoded)")
        return problems + unreadable_rows(self.db, self.sealer())

    @guarded
    def key_id(self) -> str:
        """The id of the key the face data is encrypted with (the key itself is not in the file)."""
        return str(self.db.execute("SELECT key_id FROM face_data_key").fetchone()[0])

    @guarded
    def rotate_key(self) -> KeyRotation:
        """Encrypt all face data with a new key, in one transaction: the new key is stored (and made
        this computer's current one) first, the old one retired only after the commit, so an
        interruption leaves the database whole under one of the two. The file is then rewritten so
        the old ciphertexts do not linger in its free pages or WAL."""
        new = Sealer(keys.new_current_key())
        with write_transaction(self.db):
            old = self.sealer()
            counts = reseal(self.db, old, new)
            self.db.execute("DELETE FROM gallery_snapshots")  # rebuilt under the new key at the next load
            self.db.execute("UPDATE face_data_key SET key_id = ?", [new.key_id])
        retired_to = keys.retire(old.key_id)
        scrub(self.db)
        return KeyRotation(old.key_id, new.key_id, counts, retired_to)

    @guarded
    def backup(self, destination: Path) -> Path:
        """Copy the live database to ``destination`` with SQLite's online backup API (safe while the
        kiosk runs); the copy appears under its name only once complete, readable by its owner only
        (0600 on POSIX). An existing file is never overwritten; a folder receives a time-stamped file."""
        destination = Path(destination)
        if not destination.parent.is_dir():
            raise StoreError(f"Cannot write the backup: the folder {destination.parent} does not exist.")
        if destination.is_dir():
            destination = destination / f"faceguard-{now().strftime('%Y%m%d-%H%M%S-%f')}.db"
        if destination.exists():
            raise ConflictError(f"{destination} already exists; choose a new file name or a folder.")
        partial = destination.with_name(destination.name + ".partial")
        partial.unlink(missing_ok=True)
        try:
            create_private_file(partial)
        except OSError as error:
            raise StoreError(f"Cannot write the backup {destination}: {error.strerror or error}.") from None
        target = sqlite3.connect(partial)
        try:
            self.db.conn.backup(target)
        finally:
            target.close()
        partial.replace(destination)
        return destination
