"""The in-memory gallery of one model, kept in step with the database without full reloads.

``LiveGallery.load`` reads every template of the model once (from a sealed snapshot of the gallery
when there is a usable one: ``faceguard.store.gallery_snapshot``). ``refresh()`` then asks the change log
(filled by triggers, so writes from any process count) which people changed since the last look and
reloads just their rows and status: enrolling, adding a photo, editing, deactivating or erasing
someone reaches a running kiosk on its next refresh (it polls about twice a second).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

import numpy as np

from faceguard.access.policy import PersonStatus
from faceguard.matching.gallery import Gallery, Match
from faceguard.store.gallery_snapshot import GallerySnapshot
from faceguard.store.people import StatusRow, status_from_row
from faceguard.store.repository import Store

#: A start that had to apply more changed people than this to the snapshot saves a fresh one.
RESAVE_AFTER_CHANGES = 1_000


class LiveGallery:
    """Templates of ``model_id`` as a ``Gallery`` (identities are person ids) plus each person's status."""

    def __init__(self, store: Store, model_id: str, dim: int) -> None:
        self.store = store
        self.model_id = model_id
        self.dim = dim
        self.gallery: Gallery[int] = Gallery(model_id, dim)
        self._status: dict[int, StatusRow] = {}  # person id -> Store.status_rows row
        self._seq = 0

    @classmethod
    def load(cls, store: Store, model_id: str, dim: int) -> LiveGallery:
        live = cls(store, model_id, dim)
        live._reload()
        return live

    def __len__(self) -> int:
        return len(self.gallery)

    @property
    def people(self) -> int:
        """How many people have a template of this model (each is a stranger's chance to match)."""
        return self.gallery.identity_count

    def status_of(self, person_id: int) -> PersonStatus | None:
        """The person's status as of the last refresh (None if erased or never enrolled)."""
        row = self._status.get(person_id)
        return None if row is None else status_from_row(row)

    def identify(self, probes: np.ndarray, threshold: float) -> list[Match[int]]:
        return self.gallery.identify(probes, threshold, self.model_id)

    def refresh(self) -> frozenset[int]:
        """Apply changes made since the last refresh, by any process; returns the people who changed."""
        batch = self.store.changes_after(self._seq)
        if not batch.complete:
            self._reload()
            return frozenset(self._status)
        if batch.person_ids:
            for person_id in batch.person_ids:
                self.gallery.remove(person_id)
                self._status.pop(person_id, None)
            self._add(batch.person_ids)
        self._seq = batch.last_seq
        return batch.person_ids

    def _reload(self) -> None:
        """Load every template: from the sealed snapshot plus the people changed since when it is usable
        (one decryption), else from the templates table (one per row), then saved as the new snapshot."""
        self.gallery = Gallery(self.model_id, self.dim)
        self._status = {}
        with _collector_paused():  # 100k status objects would trigger full collections: ~40% of the load
            snapshot = self.store.gallery_snapshot(self.model_id, self.dim)
            changes = None if snapshot is None else self.store.changes_after(snapshot.seq)
            if snapshot is None or changes is None or not changes.complete:
                snapshot = self._load_templates()
                self.store.save_gallery_snapshot(self.model_id, snapshot)
            elif changes.person_ids:
                snapshot = self._apply(snapshot, changes.last_seq, changes.person_ids)
                if len(changes.person_ids) > RESAVE_AFTER_CHANGES:
                    self.store.save_gallery_snapshot(self.model_id, snapshot)
            if len(snapshot.person_ids):
                self.gallery.extend(snapshot.person_ids.tolist(), snapshot.encodings, self.model_id)
            self._status.update((row[0], row) for row in self.store.status_rows(None))
        self._seq = snapshot.seq

    def _load_templates(self) -> GallerySnapshot:
        seq = self.store.last_change()  # read first: changes made while loading get re-applied
        return GallerySnapshot(seq, *self._encodings(None))

    def _apply(self, snapshot: GallerySnapshot, seq: int, changed: frozenset[int]) -> GallerySnapshot:
        """``snapshot`` with the templates of the ``changed`` people as they are now, at position ``seq``."""
        kept = ~np.isin(snapshot.person_ids, list(changed))
        ids, encodings = self._encodings(changed)
        return GallerySnapshot(
            seq,
            np.concatenate([snapshot.person_ids[kept], ids]),
            np.concatenate([snapshot.encodings[kept], encodings.reshape(-1, self.dim)]),
        )

    def _encodings(self, person_ids: frozenset[int] | None) -> tuple[np.ndarray, np.ndarray]:
        ids, encodings = self.store.load_encodings(self.model_id, person_ids)
        return ids, encodings.reshape(len(ids), self.dim)

    def _add(self, person_ids: frozenset[int] | None) -> None:
        ids, encodings = self.store.load_encodings(self.model_id, person_ids)
        if len(ids):
            self.gallery.extend(ids.tolist(), encodings, self.model_id)
        self._status.update((row[0], row) for row in self.store.status_rows(person_ids))


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
