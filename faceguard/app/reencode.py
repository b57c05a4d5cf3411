"""Re-encode enrolled faces with another model, from the thumbnails the store keeps (no original
photos needed), so the kiosk can switch models without re-enrolling anyone.

Each stored template of another model is re-aligned for the target model (its template and input
size) from its thumbnail and landmarks, encoded, and added to the same person as a new template of
the target model. The old templates are kept: switching back needs no re-enrollment either, and each
model's gallery only ever reads its own templates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from faceguard.core.errors import FaceGuardError, NotFoundError
from faceguard.core.types import Thumbnail
from faceguard.store.repository import Store
from faceguard.store.templates import NewTemplate, Template
from faceguard.vision.align import align_face
from faceguard.vision.pipeline import FacePipeline
from faceguard.vision.thumbnail import decode_thumbnail


@dataclass(frozen=True)
class ReencodeFailure:
    person_id: int
    template_id: int
    reason: str


@dataclass
class ReencodeReport:
    """What :func:`reencode` did for the model ``model_id``."""

    model_id: str
    people: int = 0  # people looked at
    reencoded: int = 0  # new templates of the target model
    already_done: int = 0  # templates whose photo already had a template of the target model
    failed: list[ReencodeFailure] = field(default_factory=list)

    def summary(self) -> str:
        failed = f", {len(self.failed)} failed" if self.failed else ""
        return (
            f"{self.people} people: {self.reencoded} face templates re-encoded with {self.model_id}, "
            f"{self.already_done} already done{failed}. Templates of other models are kept, so switching "
            "back needs no re-enrollment."
        )


def reencode(
    store: Store, pipeline: FacePipeline, progress: Callable[[int, int], None] | None = None
) -> ReencodeReport:
    """Give every enrolled face a template of ``pipeline``'s model, made from its stored thumbnail.

    A face is a distinct stored thumbnail (a re-encoded template keeps its original's thumbnail and
    source); one that already has a template of the target model is skipped, so running this again
    does nothing new. A thumbnail that cannot be decoded is reported in ``failed`` and the others go
    on. Each person's new templates are written in one transaction. ``progress(done, total)`` is
    called after each person.
    """
    report = ReencodeReport(pipeline.spec.id)
    people = store.people()
    for done, person in enumerate(people, start=1):
        _reencode_person(store, pipeline, person.id, report)
        report.people += 1
        if progress is not None:
            progress(done, len(people))
    return report


def _reencode_person(store: Store, pipeline: FacePipeline, person_id: int, report: ReencodeReport) -> None:
    spec = pipeline.spec
    template = np.asarray(spec.template, dtype=np.float32)
    templates = store.templates(person_id)
    made = {_face_key(t, store) for t in templates if t.model_id == spec.id}
    chips, sources = [], []
    for stored in templates:
        if stored.model_id == spec.id:
            continue
        try:
            thumbnail = store.thumbnail(stored.id)
            key = _face_key(stored, store, thumbnail)
            if key in made:
                report.already_done += 1
                continue
            chips.append(align_face(decode_thumbnail(thumbnail), thumbnail.landmarks, template, spec.input_size))
        except (FaceGuardError, ValueError) as error:
            report.failed.append(ReencodeFailure(person_id, stored.id, str(error)))
            continue
        made.add(key)
        sources.append((stored, thumbnail))
    if not chips:
        return
    encodings = pipeline.encode(np.stack(chips))
    new = [
        NewTemplate(spec.id, encoding, thumbnail, stored.quality, stored.source or f"reencoded:template {stored.id}")
        for encoding, (stored, thumbnail) in zip(encodings, sources)
    ]
    try:
        store.add_template(person_id, *new)
    except NotFoundError:  # erased while we worked: nothing to add
        report.failed += [
            ReencodeFailure(person_id, stored.id, "the person was erased meanwhile") for stored, _ in sources
        ]
        return
    report.reencoded += len(new)


def _face_key(template: Template, store: Store, thumbnail: Thumbnail | None = None) -> str | None:
    """Which photo a template was made from: the digest of its stored thumbnail (a re-encoded template
    keeps the thumbnail of the one it was made from; a source such as "camera:0" is not unique).
    None if it has no thumbnail."""
    try:
        thumbnail = thumbnail or store.thumbnail(template.id)
    except FaceGuardError:
        return None
    return hashlib.sha256(thumbnail.jpeg).hexdigest()
