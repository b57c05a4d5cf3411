"""Check the hash chain of the access and admin log (``faceguard.store.chain``) the way an auditor
would: on the live file or a copy, opened read-only, and say what was changed and where.

Each chain entry is checked twice: its record against the entry's digest (an edited, deleted or
swapped record) and its hash against the previous entry's (a deleted, inserted, moved or altered
entry). Records without an entry were inserted behind the program's back. The chain is not keyed:
someone who can write the file and recompute every hash after their change is not caught, unless the
head hash printed by an earlier check is compared with the chain.

An event whose name erasure replaced by the pseudonym fits its entry through the chained record of
the erasure (``faceguard.store.redaction``).

After retention removed the oldest entries (``chain.Cut``), the walk starts after the latest cut, from
the hash it recorded; what a check found in the removed entries before they went is reported again.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from faceguard.core.errors import NotADatabaseError, StoreError
from faceguard.store import chain, redaction
from faceguard.store.db import translate_errors
from faceguard.store.migrations import SCHEMA, check_schema, m007_event_chain, schema_version

#: The schema version from which a database has the chain.
_CHAIN_VERSION = SCHEMA.index(m007_event_chain) + 1
_LABELS = {chain.ACCESS: "event", chain.ADMIN: "admin action"}


@dataclass(frozen=True)
class Entry:
    """One chain entry, with the digest of its record as the file holds it now (None: no record)."""

    seq: int
    kind: str
    record_id: int
    digest: str
    hash: str
    actual: str | None

    @property
    def label(self) -> str:
        return f"{_LABELS.get(self.kind, self.kind)} {self.record_id}"


@dataclass(frozen=True)
class Finding:
    """One sign of tampering: ``kind`` is edited, deleted, inserted, reordered or altered; ``seq`` the
    chain position it concerns (None for a record outside the chain)."""

    kind: str
    text: str
    seq: int | None = None


@dataclass
class ChainReport:
    access_events: int = 0  # chain entries of each kind walked
    admin_actions: int = 0
    head: str = chain.GENESIS  # the last entry's hash
    purged_through: int = 0  # the chain position up to which retention removed the entries
    findings: list[Finding] = field(default_factory=list)

    @property
    def entries(self) -> int:
        return self.access_events + self.admin_actions

    @property
    def intact(self) -> bool:
        return not self.findings


@contextlib.contextmanager
def open_for_audit(path: Path) -> Iterator[sqlite_utils.Database]:
    """``path`` opened read-only, never migrated: with SQLite's read-only mode when a write-ahead log
    beside it holds transactions (a live database, or a copy taken with its ``-wal``), else as an
    immutable file, so nothing, not even a ``-shm``, is created beside a copy."""
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"There is no FaceGuard database at {path}.")
    wal = path.with_name(path.name + "-wal")
    mode = "mode=ro" if wal.is_file() and wal.stat().st_size else "immutable=1"
    with translate_errors(path):
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True)
        try:
            db = sqlite_utils.Database(connection, execute_plugins=False)
            check_schema(db, path)
            version = schema_version(db)
            if version == 0:
                raise NotADatabaseError(f"{path} is an empty file, not a FaceGuard database.")
            if version < _CHAIN_VERSION:
                raise StoreError(
                    f"{path} has schema version {version} of {len(SCHEMA)}: it predates the tamper-evident log "
                    f"(version {_CHAIN_VERSION}), so its events carry no hashes to check. "
                    "Opening the original once with this FaceGuard upgrades it and chains the events it holds then."
                )
            yield db
        finally:
            connection.close()


def verify_chain(db: sqlite_utils.Database, path: Path, through: int | None = None) -> ChainReport:
    """Walk the chain of the database at ``path`` in order and report every record or entry that does
    not fit it; ``through``: only the entries up to that position, and nothing about the rest of the
    file (what retention checks before it removes them)."""
    report = ChainReport()
    with translate_errors(path):
        cuts = chain.cuts(db)
        start = max(cuts, key=lambda cut: cut.through, default=None)
        report.purged_through = start.through if start else 0
        edited: list[Entry] = []
        previous: Entry | None = None
        prior = start.last_hash if start else chain.GENESIS  # the hash the entry at hand should follow
        earlier = chain.GENESIS  # the hash the previous entry should have followed
        explained: str | None = None  # set when the next entry's link was already checked: the hash after it
        redactions = redaction.trusted_redactions(db, prior)
        for entry, following in _with_following(_entries(db, redactions, through)):
            if entry.kind == chain.ADMIN:
                report.admin_actions += 1
            else:
                report.access_events += 1
            gap = entry.seq - (previous.seq if previous else report.purged_through) - 1
            if gap > 0:
                report.findings.append(_gap(gap, previous, entry))
            if entry.actual is None:
                text = f"{entry.label} was deleted (chain position {entry.seq})"
                report.findings.append(Finding("deleted", text, entry.seq))
            elif entry.actual != entry.digest and chain.link(prior, entry.actual) != entry.hash:
                edited.append(entry)
            if explained is not None:
                previous, earlier, prior, explained = entry, prior, explained, None
                continue
            if chain.link(prior, entry.digest) != entry.hash and not gap:
                finding, explained = _broken_link(entry, following, previous, prior, earlier)
                report.findings.append(finding)
            previous, earlier, prior = entry, prior, entry.hash
        inserted = {finding.seq for finding in report.findings if finding.kind == "inserted"}
        report.findings += _edited(db, [entry for entry in edited if entry.seq not in inserted])
        if through is None:
            if previous is not None:
                report.head = previous.hash
                report.findings += _cut_off(db, previous)
            report.findings += _outside_chain(db) + _misattributed(db) + _found_before_cuts(cuts)
    report.findings.sort(key=lambda finding: (finding.seq is None, finding.seq or 0))
    return report


def _entries(
    db: sqlite_utils.Database, redactions: dict[int, list[redaction.Redaction]], through: int | None = None
) -> Iterator[Entry]:
    """The chain entries in order (up to position ``through``), each with the current digest of its
    record (the entry's own digest for an event rewritten only by the chained ``redactions``)."""
    cursor = db.conn.execute(
        "SELECT seq, kind, record_id, format, digest, hash FROM log_chain WHERE seq <= ? ORDER BY seq",
        [2**63 - 1 if through is None else through],
    )
    for seq, kind, record_id, format_, digest, hash_ in cursor:
        if format_ != chain.FORMAT:
            raise StoreError(
                f"Chain entry {seq} is in format {format_}, which this FaceGuard does not know; update FaceGuard."
            )
        actual = None
        if kind in chain.TABLES:
            row = db.conn.execute(f"{chain.select_hashed(kind)} WHERE id = ?", [record_id]).fetchone()
            actual = None if row is None else chain.record_digest(kind, record_id, row[1:])
            if actual is not None and kind == chain.ACCESS and actual != digest:
                actual = redaction.redacted_digest(redactions.get(record_id, []), seq, str(digest), actual)
        yield Entry(seq, kind, record_id, str(digest), str(hash_), actual)


def _with_following(entries: Iterator[Entry]) -> Iterator[tuple[Entry, Entry | None]]:
    """Each entry with the one after it (None after the last)."""
    entry = next(entries, None)
    while entry is not None:
        following = next(entries, None)
        yield entry, following
        entry = following


def _broken_link(
    entry: Entry, following: Entry | None, previous: Entry | None, prior: str, earlier: str
) -> tuple[Finding, str | None]:
    """Why ``entry`` does not follow the hash ``prior`` (that of ``previous``, which should have followed
    ``earlier``); and, when this also settles the following entry's link, the hash the entry after that
    one follows."""
    where = f"chain position {entry.seq}"
    if previous is not None and chain.link(earlier, entry.digest) == entry.hash:
        text = f"{previous.label} was inserted into the chain (chain position {previous.seq})"
        return Finding("inserted", text, previous.seq), None
    if following is not None:
        if chain.link(prior, following.digest) == following.hash:
            if chain.link(following.hash, entry.digest) == entry.hash:
                text = f"{entry.label} and {following.label} were swapped: they are out of order ({where})"
                return Finding("reordered", text, entry.seq), entry.hash
            return Finding(
                "inserted", f"{entry.label} was inserted into the chain ({where})", entry.seq
            ), following.hash
        record_fits = entry.actual is not None and chain.link(prior, entry.actual) == entry.hash
        if record_fits and chain.link(entry.hash, following.digest) == following.hash:  # its digest was changed
            return Finding("altered", f"the chain entry of {entry.label} was altered ({where})", entry.seq), None
        if chain.link(chain.link(prior, entry.digest), following.digest) == following.hash:  # its hash was
            text = f"the chain entry of {entry.label} was altered ({where})"
            return Finding("altered", text, entry.seq), following.hash
        before = f"between {previous.label} and {entry.label}" if previous else f"before {entry.label}"
        text = f"the chain is broken {before} ({where}): an entry was deleted or moved, or this one altered"
        return Finding("deleted", text, entry.seq), None
    text = f"{entry.label}, the newest, was added outside FaceGuard or its chain entry altered ({where})"
    return Finding("inserted", text, entry.seq), None


def _gap(missing: int, previous: Entry | None, entry: Entry) -> Finding:
    where = f"between {previous.label} and {entry.label}" if previous else f"before {entry.label}"
    return Finding("deleted", _deleted(missing, where), entry.seq)


def _deleted(missing: int, where: str) -> str:
    if missing == 1:
        return f"an entry {where} was deleted"
    return f"{missing} entries {where} were deleted"


def _edited(db: sqlite_utils.Database, edited: list[Entry]) -> list[Finding]:
    """Edited records; two whose contents were exchanged are reported as swapped."""
    values = {
        entry.seq: db.conn.execute(f"{chain.select_hashed(entry.kind)} WHERE id = ?", [entry.record_id]).fetchone()[1:]
        for entry in edited
    }
    findings, swapped = [], set()
    for entry in edited:
        if entry.seq in swapped:
            continue
        other = next(
            (
                o
                for o in edited
                if o is not entry
                and o.kind == entry.kind
                and o.seq not in swapped
                and chain.record_digest(entry.kind, entry.record_id, values[o.seq]) == entry.digest
                and chain.record_digest(o.kind, o.record_id, values[entry.seq]) == o.digest
            ),
            None,
        )
        if other is None:
            findings.append(Finding("edited", f"{entry.label} was edited (chain position {entry.seq})", entry.seq))
        else:
            swapped |= {entry.seq, other.seq}
            text = f"{entry.label} and {other.label} were swapped: each holds the other's record"
            findings.append(Finding("reordered", text, entry.seq))
    return findings


def _cut_off(db: sqlite_utils.Database, last: Entry) -> list[Finding]:
    """Entries deleted from the end of the chain (SQLite remembers the highest position handed out)."""
    row = db.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'log_chain'").fetchone()
    missing = (row[0] if row else 0) - last.seq
    if missing <= 0:
        return []
    return [Finding("deleted", _deleted(missing, f"after {last.label} (the newest left)"), last.seq + 1)]


def _outside_chain(db: sqlite_utils.Database) -> list[Finding]:
    """Records no chain entry covers: written into the file directly."""
    findings = []
    for kind, table in chain.TABLES.items():
        for (record_id,) in db.conn.execute(
            f"SELECT id FROM {table} WHERE id NOT IN (SELECT record_id FROM log_chain WHERE kind = ?) ORDER BY id",
            [kind],
        ):
            findings.append(Finding("inserted", f"{_LABELS[kind]} {record_id} was inserted: it is not in the chain"))
    return findings


def _found_before_cuts(cuts: list[chain.Cut]) -> list[Finding]:
    """What the checks made as retention removed entries found in them: still evidence of tampering."""
    return [
        Finding(kind, f"{text}; found as retention removed the entries up to {cut.through} on {cut.time[:16]}", seq)
        for cut in cuts
        for kind, text, seq in cut.found
    ]


def _misattributed(db: sqlite_utils.Database) -> list[Finding]:
    """Events whose person is not the one whose pseudonym they recorded (person_id is not hashed, as
    erasure clears it, so it is checked against the hashed pseudonym)."""
    rows = db.conn.execute(
        "SELECT e.id, e.person_id FROM access_events e JOIN people p ON p.id = e.person_id"
        " WHERE e.subject IS NOT p.pseudonym ORDER BY e.id"
    )
    return [
        Finding("edited", f"event {event_id} was edited: it now names person #{person_id}, not the one it recorded")
        for event_id, person_id in rows
    ]
