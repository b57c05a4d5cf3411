"""Looking after the database file: counts, a soundness check and an online backup."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from faceguard.core.errors import ConflictError, StoreError
from faceguard.core.private_files import create_private_file
from faceguard.store.base import StoreBase, guarded
from faceguard.store.timestamps import now


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
            if "," in str(sizes) or int(sizes) % 4:
                problems.append(f"templates of model {model_id} have encodings of different sizes ({sizes} bytes)")
        orphans = self.db.execute(
            "SELECT count(*) FROM templates t LEFT JOIN template_thumbnails h ON h.template_id = t.id "
            "WHERE h.template_id IS NULL"
        ).fetchone()[0]
        if orphans:
            problems.append(f"{orphans} templates have no face thumbnail (they cannot be re-encoded)")
        return problems

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
