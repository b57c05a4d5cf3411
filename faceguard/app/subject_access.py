"""A subject access export (GDPR art. 15): everything FaceGuard stores about one person, in one ZIP.

``person.json`` holds their record, their consent with the text of the notice they agreed to, each
face template with its quality figures, landmarks and encoding, the access events that recognised them
and the admin actions about them; ``faces/`` holds the enrolled face photos and ``snapshots/`` the
access events' face snapshots, as JPEG files ``person.json`` names.

The encodings are included: art. 15 covers data derived from a person, not only what they gave, and
the photo each is computed from is in the export anyway, so leaving the numbers out would protect
nothing. Events of unrecognised faces name nobody, so nobody's export can include them. The file
is created 0600 and never overwrites another.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from faceguard.core.errors import FaceGuardError
from faceguard.core.private_files import private_opener
from faceguard.store.events import AccessEvent
from faceguard.store.repository import Store
from faceguard.store.timestamps import now, to_text

FORMAT = 1
README = """\
This is everything the FaceGuard door access system of {site} stores about {name}, exported on {when} UTC.

person.json   the record, the consent given and the notice agreed to, each enrolled face template
              (photo, landmarks, quality figures and the face encoding the door compares), each access
              event that recognised this person, and the administrators' actions about them
faces/        the enrolled face photos, one per template
snapshots/    the photos the door took at each access event that still has one

Face snapshots and access events are deleted after the periods the site has set; the record and the
face templates are kept until access is withdrawn or the person is erased.
"""


@dataclass(frozen=True)
class Export:
    """What an export wrote: the file and how many templates, events and snapshots it holds."""

    path: Path
    templates: int
    events: int
    snapshots: int


def export_subject(store: Store, person_id: int, destination: Path, site: str) -> Export:
    """Write everything stored about person ``person_id`` to the new ZIP file ``destination`` (0600)."""
    person = store.person(person_id)
    templates = store.templates(person.id)
    events = store.events(subject=person.pseudonym, newest_first=False)
    snapshots = {event.id: jpeg for event in events if (jpeg := store.event_snapshot(event.id)) is not None}
    thumbnails = {template.id: store.thumbnail(template.id) for template in templates}
    exported = to_text(now())
    record = {
        "format": FORMAT,
        "exported": exported,
        "site": site,
        "person": _jsonable(asdict(person)),
        "former_names": store.former_names(person.id),
        "consent": {
            "given": to_text(person.consent_at),
            "method": person.consent_method,
            "notice_version": person.consent_version,
            "notice": store.consent_notice(person.consent_version),
        },
        "templates": [
            {
                "id": template.id,
                "model": template.model_id,
                "source": template.source,
                "created": to_text(template.created),
                "quality": template.quality,
                "landmarks": thumbnails[template.id].landmarks.tolist(),
                "photo": f"faces/template-{template.id}.jpg",
                "encoding": template.encoding.tolist(),
            }
            for template in templates
        ],
        "events": [_event(event, event.id in snapshots) for event in events],
        "admin_actions": [_jsonable(asdict(action)) for action in store.admin_actions(person.pseudonym)],
    }
    readme = README.format(site=site, name=person.name, when=exported[:16].replace("T", " "))
    try:
        with open(destination, "xb", opener=private_opener) as file, zipfile.ZipFile(file, "w") as archive:
            archive.writestr("README.txt", readme)
            archive.writestr("person.json", json.dumps(record, indent=2, ensure_ascii=False))
            for template_id, thumbnail in thumbnails.items():
                archive.writestr(f"faces/template-{template_id}.jpg", thumbnail.jpeg)
            for event_id, jpeg in snapshots.items():
                archive.writestr(f"snapshots/event-{event_id}.jpg", jpeg)
    except FileExistsError:
        raise FaceGuardError(f"{destination} exists already; choose another file name.") from None
    except OSError as error:
        destination.unlink(missing_ok=True)  # a part of someone's data must not stay behind
        raise FaceGuardError(f"Cannot write {destination}: {error.strerror or error}.") from None
    return Export(destination, len(templates), len(events), len(snapshots))


def _event(event: AccessEvent, has_snapshot: bool) -> dict[str, Any]:
    fields = _jsonable(asdict(event))
    for internal in ("person_id", "person_name", "subject", "has_snapshot"):
        del fields[internal]
    fields["snapshot"] = f"snapshots/event-{event.id}.jpg" if has_snapshot else None
    return fields


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with times as stored (ISO 8601 UTC text)."""
    return {key: to_text(value) if isinstance(value, datetime) else value for key, value in fields.items()}
