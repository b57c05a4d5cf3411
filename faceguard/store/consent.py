"""The consent notice a person agrees to before their face is stored, by version.

A person's record keeps the version they agreed to (``consent_version``) beside when and how; the
notice's text is copied into the database (``consent_notices``) the first time a consent under it is
recorded, so a subject access export shows the words agreed to even after a later FaceGuard words
them differently. A changed text is a new version: never edit a version's text once it has shipped.
"""

from __future__ import annotations

import sqlite_utils

from faceguard.core.errors import InvalidInputError

#: Every version of the notice, oldest first.
CONSENT_NOTICES = {
    "1": (
        "I agree that this site stores a photo of my face, and face templates computed from it, to recognise "
        "me at its doors. Each time I am recognised or refused, the time, the door and a small photo of my "
        "face are recorded in the access log; the site deletes those photos and entries after the periods "
        "it has set. I may ask for a copy of everything stored about me, and withdraw this consent at any "
        "time: my photos and templates are then erased."
    ),
}
#: The version recorded with a new consent unless another is named.
CONSENT_VERSION = "1"


def check_version(version: str) -> str:
    """``version`` if it names a known notice (InvalidInputError otherwise)."""
    if version not in CONSENT_NOTICES:
        known = ", ".join(CONSENT_NOTICES)
        raise InvalidInputError(f"There is no consent notice version '{version}' (known: {known}).")
    return version


def keep_notice(db: sqlite_utils.Database, version: str) -> None:
    """Copy the text of notice ``version`` into the database, once (inside the caller's transaction)."""
    db.execute(
        "INSERT OR IGNORE INTO consent_notices (version, text) VALUES (?, ?)", [version, CONSENT_NOTICES[version]]
    )


def notice_text(db: sqlite_utils.Database, version: str | None) -> str | None:
    """The text of notice ``version`` as the database recorded it (None: no version)."""
    if version is None:
        return None
    row = db.execute("SELECT text FROM consent_notices WHERE version = ?", [version]).fetchone()
    return str(row[0]) if row else CONSENT_NOTICES.get(version)
