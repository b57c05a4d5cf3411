"""A sealed copy of one model's gallery, so a kiosk starts with one decryption instead of one per template.

Opening 100,000 sealed templates one AES-GCM call at a time costs about as much again as reading them
(~2 µs a row). A snapshot holds the person id and encoding of every template of a model as one sealed
value, with the change-log position it reflects; ``LiveGallery`` opens it, then reloads from the
templates table only the people changed since, as its ``refresh`` does. Any template deleted (a photo
removed, a person erased) drops every snapshot in the same transaction (m010's trigger), and a key
rotation drops them too, so erased face data never outlives its rows in a snapshot; a snapshot that
does not open is ignored and replaced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from faceguard.core.errors import CorruptDatabaseError, DatabaseLockedError, DiskFullError, ReadOnlyDatabaseError
from faceguard.store.base import guarded
from faceguard.store.change_log import ChangeLog
from faceguard.store.db import translate_errors, write_transaction
from faceguard.store.sealing import snapshot_of_gallery_row

#: How long saving a snapshot waits for another program's write lock: it is an optimisation, not worth
#: holding up a kiosk's start.
_SAVE_WAIT_MS = 200


@dataclass(frozen=True)
class GallerySnapshot:
    """Every template of a model at change-log position ``seq``: person ids (N,) and encodings (N, D)."""

    seq: int
    person_ids: np.ndarray
    encodings: np.ndarray


class GallerySnapshots(ChangeLog):
    """Reads and writes of the sealed gallery snapshots."""

    @guarded
    def gallery_snapshot(self, model_id: str, dim: int) -> GallerySnapshot | None:
        """The model's snapshot, or None when there is none or it does not open (stale key, damage)."""
        row = self.db.execute(
            "SELECT seq, count, data FROM gallery_snapshots WHERE model_id = ?", [model_id]
        ).fetchone()
        if row is None:
            return None
        seq, count, data = row
        try:
            plain = self.sealer().open(data, snapshot_of_gallery_row(model_id, seq, count))
        except CorruptDatabaseError:
            return None
        if len(plain) != count * (8 + 4 * dim):
            return None
        person_ids = np.frombuffer(plain, dtype="<i8", count=count).astype(np.int64)
        encodings = np.frombuffer(plain, dtype="<f4", offset=8 * count).reshape(count, dim)
        return GallerySnapshot(seq, person_ids, encodings.astype(np.float32, copy=False))

    def save_gallery_snapshot(self, model_id: str, snapshot: GallerySnapshot) -> bool:
        """Store ``snapshot`` unless the templates changed after its position (it would hold face data
        that may since have been erased) or the file cannot be written now (locked for more than a
        moment, read-only, full): a kiosk starts without it. Whether it was stored."""
        count = len(snapshot.person_ids)
        plain = np.asarray(snapshot.person_ids, "<i8").tobytes() + np.asarray(snapshot.encodings, "<f4").tobytes()
        (waited_before,) = self.db.execute("PRAGMA busy_timeout").fetchone()
        self.db.execute(f"PRAGMA busy_timeout = {_SAVE_WAIT_MS}")
        try:
            with translate_errors(self.path), write_transaction(self.db):
                if self.last_change() != snapshot.seq:
                    return False
                sealed = self.sealer().seal(plain, snapshot_of_gallery_row(model_id, snapshot.seq, count))
                self.db.execute(
                    "INSERT OR REPLACE INTO gallery_snapshots (model_id, seq, count, data) VALUES (?, ?, ?, ?)",
                    [model_id, snapshot.seq, count, sealed],
                )
        except (DatabaseLockedError, ReadOnlyDatabaseError, DiskFullError):
            return False
        finally:
            self.db.execute(f"PRAGMA busy_timeout = {int(waited_before)}")
        return True
