"""The columns the server's tables share with the SQLite store, in the SQLite order, so a kiosk copies
each row into its replica as is; and the associated data a delivered snapshot is sealed with."""

from __future__ import annotations

from faceguard.store.site_replica import LOG_COLUMNS

#: ``people`` as the SQLite store has it after m011 (times as its ISO text, ``active`` 0/1).
PEOPLE_COLUMNS = (
    "id",
    "name",
    "badge",
    "group_name",
    "active",
    "valid_from",
    "valid_until",
    "notes",
    "pseudonym",
    "created",
    "updated",
    "consent_at",
    "consent_method",
    "consent_version",
)
#: ``templates`` (``encoding`` sealed as the SQLite store seals it).
TEMPLATE_COLUMNS = ("id", "person_id", "model_id", "encoding", "quality", "source", "created")
#: ``template_thumbnails`` beside its template (``jpeg`` sealed).
THUMBNAIL_COLUMNS = ("jpeg", "landmarks")
FORMER_NAME_COLUMNS = ("person_id", "name")
#: ``access_events`` as the SQLite store has it after m006 (``person_id`` without a foreign key here).
EVENT_COLUMNS = LOG_COLUMNS
#: What a kiosk delivers of each event: its columns, its site-wide id, its id in the kiosk's replica and
#: that replica's own id (a door's kiosk reinstalled counts its events from 1 again in a new replica).
DELIVERED_COLUMNS = (*EVENT_COLUMNS, "event_uid", "kiosk_event_id", "replica")


def event_snapshot_row(event_uid: str) -> bytes:
    """A delivered snapshot's associated data: bound to its event's uid, which (unlike the kiosk's event
    id) is the same on every copy of the event."""
    return b"snapshot of event " + event_uid.encode()
