"""Face data sealed at rest: AES-256-GCM with a fresh 96-bit nonce per row and the row's identity as
associated data.

A sealed value is one BLOB: a format byte (1), the nonce, then the ciphertext with its 16-byte tag.
The associated data names the row ("template 12 of person 3", "thumbnail of template 12",
"snapshot of event 7"), so a ciphertext copied into another row, or a template moved to another
person, does not open: the error names the row instead of decoding garbage. ``SEALED`` lists the
columns so sealed and the SQL that names each of their rows the same way the writers do.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import sqlite_utils
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from faceguard.core.errors import CorruptDatabaseError

FORMAT = 1
KEY_BYTES = 32
NONCE_BYTES = 12
#: Bytes a sealed value adds to its plaintext: the format byte, the nonce and the tag.
OVERHEAD = 1 + NONCE_BYTES + 16
_NONCE_END = 1 + NONCE_BYTES
#: Rows read and rewritten at a time when a whole column is sealed again (bounded memory).
_BATCH = 500


def key_id(key: bytes) -> str:
    """The name a database records for its key: the first 16 hex digits of the key's SHA-256."""
    return hashlib.sha256(key).hexdigest()[:16]


def template_row(template_id: int, person_id: int) -> bytes:
    return b"template %d of person %d" % (template_id, person_id)


def thumbnail_row(template_id: int) -> bytes:
    return b"thumbnail of template %d" % template_id


def snapshot_row(event_id: int) -> bytes:
    return b"snapshot of event %d" % event_id


def snapshot_of_gallery_row(model_id: str, seq: int, count: int) -> bytes:
    """A gallery snapshot's associated data: its model, change-log position and number of templates."""
    return b"gallery of model %s at change %d with %d templates" % (model_id.encode(), seq, count)


@dataclass(frozen=True)
class SealedColumn:
    """A column of sealed values; ``row`` is the SQL expression of each row's associated data, equal
    to what the matching ``*_row`` function gives its writer."""

    table: str
    key: str
    column: str
    row: str
    what: str  # in counts: "face encodings", …


TEMPLATES = SealedColumn(
    "templates", "id", "encoding", "CAST('template ' || id || ' of person ' || person_id AS BLOB)", "face encodings"
)
THUMBNAILS = SealedColumn(
    "template_thumbnails",
    "template_id",
    "jpeg",
    "CAST('thumbnail of template ' || template_id AS BLOB)",
    "face thumbnails",
)
SNAPSHOTS = SealedColumn(
    "event_snapshots", "event_id", "jpeg", "CAST('snapshot of event ' || event_id AS BLOB)", "event snapshots"
)
SEALED = (TEMPLATES, THUMBNAILS, SNAPSHOTS)


class Sealer:
    """Seals and opens face data with one 256-bit key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"A face data key has {KEY_BYTES} bytes, not {len(key)}.")
        self.key_id = key_id(key)
        self._aead = AESGCM(key)

    def seal(self, plain: bytes, row: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return bytes([FORMAT]) + nonce + self._aead.encrypt(nonce, plain, row)

    def open(self, sealed: bytes, row: bytes) -> bytes:
        """The plaintext of ``sealed``; CorruptDatabaseError naming the row when it is not a sealed
        value, was altered, belongs to another row or was sealed with another key."""
        if len(sealed) < OVERHEAD or sealed[0] != FORMAT:
            raise CorruptDatabaseError(
                f"The face data of {row.decode()} is not encrypted; it was written outside FaceGuard. "
                "Restore the database from a backup."
            )
        try:
            return self._aead.decrypt(sealed[1:_NONCE_END], sealed[_NONCE_END:], row)
        except InvalidTag:
            raise CorruptDatabaseError(
                f"The face data of {row.decode()} does not decrypt with key {self.key_id}: it was altered or "
                "copied from another row. Restore the database from a backup."
            ) from None

    def open_all(self, values: Sequence[bytes], rows: Sequence[bytes]) -> list[bytes]:
        """The plaintexts of many sealed ``values`` of the ``rows`` named alike: the gallery's start-up
        path, one tight loop; a failure is then found and named row by row."""
        decrypt = self._aead.decrypt
        try:
            return [decrypt(value[1:_NONCE_END], value[_NONCE_END:], row) for value, row in zip(values, rows)]
        except (InvalidTag, ValueError):
            return [self.open(value, row) for value, row in zip(values, rows)]


def reseal(db: sqlite_utils.Database, before: Sealer | None, after: Sealer) -> dict[str, int]:
    """Seal every row of every ``SEALED`` column with ``after``: rows sealed with ``before``, or plain
    rows when it is None (a database from before encryption), in the caller's transaction; the count
    of each kind of row."""
    counts = {}
    for column in SEALED:
        counts[column.what] = 0
        for batch in _batches(db, column):
            plains = [value if before is None else before.open(value, row) for _, value, row in batch]
            db.conn.executemany(
                f"UPDATE {column.table} SET {column.column} = ? WHERE {column.key} = ?",
                [(after.seal(plain, row), key) for (key, _, row), plain in zip(batch, plains)],
            )
            counts[column.what] += len(batch)
    return counts


def unreadable_rows(db: sqlite_utils.Database, sealer: Sealer) -> list[str]:
    """The rows of every ``SEALED`` column that do not open with ``sealer`` (each error's message)."""
    problems = []
    for column in SEALED:
        for batch in _batches(db, column):
            for _, value, row in batch:
                try:
                    sealer.open(value, row)
                except CorruptDatabaseError as error:
                    problems.append(str(error))
    return problems


def _batches(db: sqlite_utils.Database, column: SealedColumn) -> Iterator[list[tuple[int, bytes, bytes]]]:
    """(key, value, associated data) of the column's rows in key order, ``_BATCH`` at a time."""
    sql = (
        f"SELECT {column.key}, {column.column}, {column.row} FROM {column.table}"
        f" WHERE {column.key} > ? ORDER BY {column.key} LIMIT {_BATCH}"
    )
    last = -(2**63)
    while batch := db.execute(sql, [last]).fetchall():
        yield batch
        last = batch[-1][0]
