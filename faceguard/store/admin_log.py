"""The admin log: who was added, edited, (de)activated or erased, which photos were added, which
settings, access groups (their doors and schedules) and holidays changed, when the admin password was
set, changed or reset or typed wrong, and what retention purged, chained with the access events
(``faceguard.store.chain``).

A record names a person only by their pseudonym and says which fields or settings changed, never their
values: the chain is permanent, so it must hold no name (erasure removes those) and no secret a setting
may carry (a door address with a password), never a password typed.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from faceguard.store import chain
from faceguard.store.base import inserted_id
from faceguard.store.timestamps import now, to_text

#: What an admin record can say was done.
ADMIN_ACTIONS = (
    "person_added",
    "person_edited",
    "person_activated",
    "person_deactivated",
    "person_erased",
    "template_added",
    "settings_changed",
    "admin_password_set",
    "admin_password_changed",
    "admin_password_reset",
    "admin_login_failed",
    "log_purged",
    "access_group_added",
    "access_group_edited",
    "access_group_deleted",
    "holiday_added",
    "holiday_edited",
    "holiday_deleted",
)


def log_admin_action(db: sqlite_utils.Database, action: str, subject: str | None, **details: Any) -> int:
    """Record ``action`` (on the person with pseudonym ``subject``) in the chain; call it inside the
    write transaction that made the change. Returns the record's id."""
    if action not in ADMIN_ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ADMIN_ACTIONS)}, not {action!r}")
    cursor = db.execute(
        "INSERT INTO admin_events (time, action, subject, details) VALUES (?, ?, ?, ?)",
        [to_text(now()), action, subject, json.dumps(details, sort_keys=True, separators=(",", ":"))],
    )
    record_id = inserted_id(cursor)
    chain.append(db, chain.ADMIN, record_id)
    return record_id
