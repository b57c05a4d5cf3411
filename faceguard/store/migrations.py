"""The schema, as an ordered list of sqlite-utils migrations applied when a database is opened.

Never edit a migration that has shipped: add a new one. ``SCHEMA`` names them in order; a database
that records a migration this list does not know was written by a newer FaceGuard and is refused
rather than guessed at.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

from faceguard.core.errors import NotADatabaseError, SchemaTooNewError
from faceguard.store import chain, keys, sealing
from faceguard.store.db import write_transaction
from faceguard.store.events import DECISIONS

migrations = Migrations("faceguard")
#: The access log's decision words as an SQL list. m002's CHECK is built from them and equals the text
#: it shipped with; a change to the words needs a new migration that rebuilds the table.
_DECISION_WORDS = ", ".join(f"'{word}'" for word in DECISIONS)


@migrations()
def m001_people_and_templates(db: sqlite_utils.Database) -> None:
    db.executescript(
        """
        CREATE TABLE people (
            id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: an erased person's id stays theirs
            name TEXT NOT NULL CHECK (length(trim(name)) > 0),
            badge TEXT UNIQUE,
            group_name TEXT,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            valid_from TEXT,
            valid_until TEXT,
            notes TEXT,
            pseudonym TEXT NOT NULL UNIQUE,
            created TEXT NOT NULL,
            updated TEXT NOT NULL
        );
        CREATE INDEX people_name ON people (name COLLATE NOCASE);
        CREATE TABLE templates (
            id INTEGER PRIMARY KEY,
            person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
            model_id TEXT NOT NULL,
            encoding BLOB NOT NULL,
            quality TEXT,
            source TEXT,
            created TEXT NOT NULL
        );
        CREATE INDEX templates_person ON templates (person_id);
        CREATE INDEX templates_model ON templates (model_id);
        CREATE TABLE template_thumbnails (
            template_id INTEGER PRIMARY KEY REFERENCES templates (id) ON DELETE CASCADE,
            jpeg BLOB NOT NULL,
            landmarks TEXT NOT NULL
        );
        """
    )


@migrations()
def m002_access_events(db: sqlite_utils.Database) -> None:
    db.executescript(
        f"""
        CREATE TABLE access_events (
            id INTEGER PRIMARY KEY,
            time TEXT NOT NULL,
            door TEXT,
            decision TEXT NOT NULL CHECK (decision IN ({_DECISION_WORDS})),
            reason TEXT NOT NULL,
            message TEXT,
            person_id INTEGER REFERENCES people (id) ON DELETE SET NULL,
            subject TEXT,
            distance REAL,
            threshold REAL,
            model_id TEXT,
            latency_ms REAL
        );
        CREATE INDEX access_events_time ON access_events (time);
        CREATE INDEX access_events_person ON access_events (person_id);
        CREATE TABLE event_snapshots (
            event_id INTEGER PRIMARY KEY REFERENCES access_events (id) ON DELETE CASCADE,
            jpeg BLOB NOT NULL
        );
        """
    )


@migrations()
def m003_settings(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


@migrations()
def m004_change_log(db: sqlite_utils.Database) -> None:
    """Triggers record which person's templates or status changed, for galleries in other processes."""
    db.executescript(
        """
        CREATE TABLE changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, person_id INTEGER NOT NULL,
                              time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
        CREATE TRIGGER templates_added AFTER INSERT ON templates
            BEGIN INSERT INTO changes (person_id) VALUES (NEW.person_id); END;
        CREATE TRIGGER templates_removed AFTER DELETE ON templates
            BEGIN INSERT INTO changes (person_id) VALUES (OLD.person_id); END;
        CREATE TRIGGER people_edited AFTER UPDATE OF name, active, valid_from, valid_until ON people
            BEGIN INSERT INTO changes (person_id) VALUES (NEW.id); END;
        CREATE TRIGGER people_removed AFTER DELETE ON people
            BEGIN INSERT INTO changes (person_id) VALUES (OLD.id); END;
        """
    )


@migrations()
def m005_consent(db: sqlite_utils.Database) -> None:
    """When (ISO UTC) and how ("wizard", "cli", "form"…) each person agreed to have their face stored;
    NULL for people enrolled before consent was recorded."""
    db.execute("ALTER TABLE people ADD COLUMN consent_at TEXT")  # execute, not executescript: stays in the
    db.execute("ALTER TABLE people ADD COLUMN consent_method TEXT")  # migration's transaction


@migrations()
def m006_liveness_and_door(db: sqlite_utils.Database) -> None:
    """Per access event: the liveness mode checked (off, passive, active, both), whether the face passed,
    the passive live score and the active head movement; and what the door output did ("unlocked 4 s",
    or why it did not open). NULL for events from before, or without a check or a door output."""
    for column in (
        "liveness TEXT",
        "liveness_passed INTEGER CHECK (liveness_passed IN (0, 1))",
        "live_score REAL",
        "liveness_motion REAL",
        "door_action TEXT",
    ):
        db.execute(f"ALTER TABLE access_events ADD COLUMN {column}")


@migrations()
def m007_event_chain(db: sqlite_utils.Database) -> None:
    """The tamper-evident log (``faceguard.store.chain``): admin actions beside the access events, and
    the hash chain over both; the events already logged are chained in id order, so an upgraded file
    verifies (the chain proves nothing about changes made before this upgrade)."""
    db.execute(
        "CREATE TABLE admin_events (id INTEGER PRIMARY KEY, time TEXT NOT NULL, action TEXT NOT NULL,"
        " subject TEXT, details TEXT NOT NULL)"
    )
    db.execute(
        "CREATE TABLE log_chain (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " kind TEXT NOT NULL CHECK (kind IN ('access', 'admin')), record_id INTEGER NOT NULL,"
        " format INTEGER NOT NULL, digest TEXT NOT NULL, hash TEXT NOT NULL, UNIQUE (kind, record_id))"
    )
    chain.append_all(db, chain.ACCESS)


@migrations()
def m008_face_data_sealed(db: sqlite_utils.Database) -> None:
    """Face encodings, thumbnails and event snapshots encrypted at rest (``faceguard.store.sealing``)
    with this computer's key (``faceguard.store.keys``), whose id alone the database records; the rows
    stored before are encrypted in place. ``migrate`` then rewrites the file so no plain copy stays in
    its free pages or its WAL."""
    sealer = sealing.Sealer(keys.current_key())
    db.execute("CREATE TABLE face_data_key (id INTEGER PRIMARY KEY CHECK (id = 1), key_id TEXT NOT NULL)")
    db.execute("INSERT INTO face_data_key (id, key_id) VALUES (1, ?)", [sealer.key_id])
    sealing.reseal(db, None, sealer)


@migrations()
def m009_consent_notice(db: sqlite_utils.Database) -> None:
    """The version of the consent notice each person agreed to (``faceguard.store.consent``), and the
    text of every version used; NULL for consents recorded before, whose notice is not known."""
    db.execute("ALTER TABLE people ADD COLUMN consent_version TEXT")
    db.execute("CREATE TABLE consent_notices (version TEXT PRIMARY KEY, text TEXT NOT NULL)")


@migrations()
def m010_gallery_snapshots(db: sqlite_utils.Database) -> None:
    """Sealed snapshots of each model's gallery (``faceguard.store.gallery_snapshot``), dropped in the
    transaction that deletes any template, so a snapshot never holds erased face data."""
    db.execute(
        "CREATE TABLE gallery_snapshots (model_id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
        " count INTEGER NOT NULL, data BLOB NOT NULL)"
    )
    db.execute(
        "CREATE TRIGGER gallery_snapshots_dropped AFTER DELETE ON templates BEGIN DELETE FROM gallery_snapshots; END"
    )


@migrations()
def m011_former_names(db: sqlite_utils.Database) -> None:
    """The names a person had before a rename: their older events' messages still say them, so erasure
    takes those out too; erased with the person."""
    db.execute(
        "CREATE TABLE former_names (person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,"
        " name TEXT NOT NULL, PRIMARY KEY (person_id, name))"
    )


@migrations()
def m012_event_uid(db: sqlite_utils.Database) -> None:
    """A unique id for each access event, made where it was decided, so a site's server takes each
    event delivered by a kiosk exactly once however often the delivery is retried (``faceguard.app.site_link``)."""
    db.execute("ALTER TABLE access_events ADD COLUMN event_uid TEXT")
    db.execute("UPDATE access_events SET event_uid = lower(hex(randomblob(16)))")
    db.execute("CREATE UNIQUE INDEX access_events_uid ON access_events (event_uid)")


@migrations()
def m013_door_rules(db: sqlite_utils.Database) -> None:
    """Access groups, the doors each may open on a schedule (``Schedule``'s text form) and the site's
    holidays (``hours`` NULL: closed all day; else the windows that replace the day's), for
    ``faceguard.access.door_rules``; a person's group stays ``people.group_name``, now in the change log
    too, so a running kiosk follows a person moved to another group. The access log gets an index by
    door, for its door filter and the list of doors seen in it."""
    db.execute(
        "CREATE TABLE access_groups (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
        " observe_holidays INTEGER NOT NULL DEFAULT 1 CHECK (observe_holidays IN (0, 1)))"
    )
    db.execute(
        "CREATE TABLE group_doors (group_id INTEGER NOT NULL REFERENCES access_groups (id) ON DELETE CASCADE,"
        " door TEXT NOT NULL, schedule TEXT NOT NULL, PRIMARY KEY (group_id, door))"
    )
    db.execute(
        "CREATE TABLE holidays (id INTEGER PRIMARY KEY, name TEXT NOT NULL, day TEXT NOT NULL,"
        " yearly INTEGER NOT NULL DEFAULT 0 CHECK (yearly IN (0, 1)), hours TEXT)"
    )
    db.execute("DROP TRIGGER people_edited")
    db.execute(
        "CREATE TRIGGER people_edited AFTER UPDATE OF name, active, valid_from, valid_until, group_name ON people"
        " BEGIN INSERT INTO changes (person_id) VALUES (NEW.id); END"
    )
    db.execute("CREATE INDEX access_events_door ON access_events (door)")


#: The migrations in the order they apply; a database's schema version is how many it has.
SCHEMA = [
    m001_people_and_templates,
    m002_access_events,
    m003_settings,
    m004_change_log,
    m005_consent,
    m006_liveness_and_door,
    m007_event_chain,
    m008_face_data_sealed,
    m009_consent_notice,
    m010_gallery_snapshots,
    m011_former_names,
    m012_event_uid,
    m013_door_rules,
]


def schema_version(db: sqlite_utils.Database) -> int:
    """How many of ``SCHEMA``'s migrations this database has (0 for a new file)."""
    return len(migrations.applied(db))


def check_schema(db: sqlite_utils.Database, path: object) -> None:
    """Refuse, before anything is written, a file of another program or of a newer FaceGuard."""
    tables = {name for name in db.table_names() if not name.startswith("sqlite_")}
    if tables and not migrations.applied(db):
        raise NotADatabaseError(
            f"{path} is an SQLite database of another program (tables: {', '.join(sorted(tables)[:5])}), "
            "not a FaceGuard database; it was left untouched."
        )
    _refuse_newer(db)


def migrate(db: sqlite_utils.Database, stop_before: str | None = None) -> None:
    """Bring ``db`` up to date (or to just before the migration named ``stop_before``).

    Refuses a database from a newer FaceGuard. Reads only, unless something is pending; then the
    migrations run in one write transaction, so two processes opening a new file at once queue.
    """
    _refuse_newer(db)
    pending = _pending(db, stop_before)
    if not pending:
        return
    with write_transaction(db):
        _refuse_newer(db)
        migrations.apply(db, stop_before=stop_before)
    if m008_face_data_sealed.__name__ in pending and _holds_face_data(db):
        scrub(db)


def scrub(db: sqlite_utils.Database) -> None:
    """Rewrite the file after face data was sealed anew, so no earlier copy of it (plain, or under a
    retired key) stays in the WAL or in free pages: checkpoint, VACUUM, checkpoint again with the WAL
    truncated. (Blocks the file system freed are beyond SQLite's reach: full-disk encryption covers those.)"""
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("VACUUM")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _holds_face_data(db: sqlite_utils.Database) -> bool:
    return any(db.execute(f"SELECT EXISTS (SELECT 1 FROM {column.table})").fetchone()[0] for column in sealing.SEALED)


def _pending(db: sqlite_utils.Database, stop_before: str | None) -> list[str]:
    names = [migration.name for migration in migrations.pending(db)]
    return names[: names.index(stop_before)] if stop_before in names else names


def _refuse_newer(db: sqlite_utils.Database) -> None:
    known = {function.__name__ for function in SCHEMA}
    unknown = [m.name for m in migrations.applied(db) if m.name not in known]
    if unknown:
        raise SchemaTooNewError(
            f"This database was written by a newer FaceGuard (its schema step '{unknown[-1]}' is unknown "
            "here). Update FaceGuard; the database was left untouched."
        )
