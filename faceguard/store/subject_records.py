"""Reads for a subject access export (``faceguard.app.subject_access``) that no other part makes: the
admin actions recorded about one person and the text of the consent notice they agreed to."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from faceguard.store.base import StoreBase, guarded
from faceguard.store.consent import notice_text
from faceguard.store.timestamps import from_text


@dataclass(frozen=True)
class AdminAction:
    id: int
    time: datetime
    action: str  # one of faceguard.store.admin_log.ADMIN_ACTIONS
    details: dict[str, Any]  # field and setting names, counts: never values


class SubjectRecords(StoreBase):
    """What is recorded about a person beside their record, templates and events."""

    @guarded
    def admin_actions(self, subject: str) -> list[AdminAction]:
        """The admin actions about the person with pseudonym ``subject``, oldest first."""
        rows = self.db.execute(
            "SELECT id, time, action, details FROM admin_events WHERE subject = ? ORDER BY time, id", [subject]
        ).fetchall()
        return [AdminAction(row[0], from_text(row[1]), row[2], json.loads(row[3])) for row in rows]

    @guarded
    def consent_notice(self, version: str | None) -> str | None:
        """The text of consent notice ``version`` as the database recorded it (None: no version)."""
        return notice_text(self.db, version)
