"""The templates table: each person's face encodings by model, with the thumbnail they were made from."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from faceguard.core.errors import CorruptDatabaseError, NotFoundError
from faceguard.core.types import Thumbnail
from faceguard.store.admin_log import log_admin_action
from faceguard.store.base import StoreBase, guarded
from faceguard.store.sealing import template_row, thumbnail_row
from faceguard.store.timestamps import from_text, now, to_text

#: The key of a template's quality figures that records, for a photo the admin enrolled below the
#: recommended quality, the warning they accepted (e.g. "The face is blurred. …").
ACCEPTED_BELOW = "accepted_below"


class _Quality:
    """What templates know of their photo's quality."""

    quality: dict[str, float | str]  # the measured figures, and ACCEPTED_BELOW when it applies

    @property
    def accepted_below(self) -> str | None:
        """The warning accepted when this photo was enrolled below the recommended quality, else None."""
        return self.quality.get(ACCEPTED_BELOW)  # type: ignore[return-value]


@dataclass(frozen=True, eq=False)
class NewTemplate(_Quality):
    """A face ready to store: its encoding by ``model_id``, its thumbnail and how it was taken."""

    model_id: str
    encoding: np.ndarray
    thumbnail: Thumbnail
    quality: dict[str, float | str]
    source: str  # e.g. "photo:alice.jpg" or "camera:0"


@dataclass(frozen=True, eq=False)
class Template(_Quality):
    id: int
    person_id: int
    model_id: str
    encoding: np.ndarray
    quality: dict[str, float | str]
    source: str | None
    created: datetime


class TemplatesTable(StoreBase):
    """Reads and writes of face templates and their thumbnails (sealed: ``faceguard.store.sealing``),
    and counts of them by model."""

    @guarded
    def templates(self, person_id: int) -> list[Template]:
        sealer = self.sealer()
        rows = self._query("SELECT * FROM templates WHERE person_id = ? ORDER BY id", [person_id])
        for row in rows:
            row["encoding"] = sealer.open(row["encoding"], template_row(row["id"], row["person_id"]))
        return [_template(row) for row in rows]

    @guarded
    def face(self, person_id: int) -> bytes | None:
        """The JPEG face of the person's first enrolled photo (None: no photo, or no such person)."""
        row = self.db.execute(
            "SELECT t.id, th.jpeg FROM templates t LEFT JOIN template_thumbnails th ON th.template_id = t.id"
            " WHERE t.person_id = ? ORDER BY t.id LIMIT 1",
            [person_id],
        ).fetchone()
        if row is None or row[1] is None:
            return None
        return self.sealer().open(row[1], thumbnail_row(row[0]))

    @guarded
    def thumbnail(self, template_id: int) -> Thumbnail:
        row = self.db.execute(
            "SELECT jpeg, landmarks FROM template_thumbnails WHERE template_id = ?", [template_id]
        ).fetchone()
        if row is None:
            raise NotFoundError(f"Template {template_id} has no stored face thumbnail.")
        jpeg = self.sealer().open(row[0], thumbnail_row(template_id))
        return Thumbnail(jpeg, np.asarray(json.loads(row[1]), np.float32))

    @guarded
    def load_encodings(self, model_id: str, person_ids: Iterable[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(person ids (N,), encodings (N, D) float32) of every template made by ``model_id``
        (only of ``person_ids`` when given)."""
        sql = "SELECT id, person_id, encoding FROM templates WHERE model_id = ?"
        params: list[Any] = [model_id]
        if person_ids is not None:
            sql += " AND person_id IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(sorted(person_ids)))
        sealer = self.sealer()
        rows = self.db.execute(sql + " ORDER BY id", params).fetchall()
        ids = np.fromiter((row[1] for row in rows), dtype=np.int64, count=len(rows))
        if not rows:
            return ids, np.empty((0, 0), np.float32)
        encodings = sealer.open_all([row[2] for row in rows], [template_row(row[0], row[1]) for row in rows])
        sizes = {len(encoding) for encoding in encodings}
        if len(sizes) > 1 or sizes.pop() % 4:
            raise CorruptDatabaseError(
                f"{self.path}: templates of model {model_id} have encodings of different sizes; run faceguard db check."
            )
        blob = b"".join(encodings)
        return ids, np.frombuffer(blob, dtype="<f4").reshape(len(rows), -1).astype(np.float32, copy=False)

    @guarded
    def enrolled_count(self, model_id: str) -> int:
        """How many people have at least one template of ``model_id`` (the size of its gallery)."""
        sql = "SELECT count(DISTINCT person_id) FROM templates WHERE model_id = ?"
        return int(self.db.execute(sql, [model_id]).fetchone()[0])

    @guarded
    def people_without_model(self, model_id: str) -> int:
        """How many people have templates of other models but none of ``model_id``: those its gallery
        lacks until their faces are re-encoded with it (``faceguard.app.reencode``)."""
        sql = (
            "SELECT (SELECT count(DISTINCT person_id) FROM templates)"
            " - (SELECT count(DISTINCT person_id) FROM templates WHERE model_id = ?)"
        )
        return int(self.db.execute(sql, [model_id]).fetchone()[0])

    @guarded
    def enrolled_by_model(self) -> dict[str, int]:
        """For each model with templates, how many people have at least one of them (by model id)."""
        sql = "SELECT model_id, count(DISTINCT person_id) FROM templates GROUP BY model_id ORDER BY model_id"
        return {model_id: int(people) for model_id, people in self.db.execute(sql).fetchall()}

    def _insert_template(self, person_id: int, template: NewTemplate) -> int:
        encoding = np.asarray(template.encoding, dtype="<f4").reshape(-1)
        if not np.isfinite(encoding).all():
            raise ValueError("A face encoding with non-finite values cannot be stored.")
        sealer = self.sealer()
        # The id is chosen before the INSERT (the caller's write transaction holds the lock): it is part
        # of what the sealed encoding is bound to.
        template_id = int(self.db.execute("SELECT coalesce(max(id), 0) + 1 FROM templates").fetchone()[0])
        self.db.execute(
            "INSERT INTO templates (id, person_id, model_id, encoding, quality, source, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                template_id,
                person_id,
                template.model_id,
                sealer.seal(encoding.tobytes(), template_row(template_id, person_id)),
                json.dumps(template.quality),
                template.source,
                to_text(now()),
            ],
        )
        self.db.execute(
            "INSERT INTO template_thumbnails (template_id, jpeg, landmarks) VALUES (?, ?, ?)",
            [
                template_id,
                sealer.seal(template.thumbnail.jpeg, thumbnail_row(template_id)),
                json.dumps(np.round(template.thumbnail.landmarks, 2).tolist()),
            ],
        )
        pseudonym = self.db.execute("SELECT pseudonym FROM people WHERE id = ?", [person_id]).fetchone()[0]
        log_admin_action(self.db, "template_added", pseudonym, template=template_id, model_id=template.model_id)
        return template_id


def _template(row: dict[str, Any]) -> Template:
    return Template(
        id=row["id"],
        person_id=row["person_id"],
        model_id=row["model_id"],
        encoding=np.frombuffer(row["encoding"], dtype="<f4").astype(np.float32),
        quality=json.loads(row["quality"] or "{}"),
        source=row["source"],
        created=from_text(row["created"]),
    )
