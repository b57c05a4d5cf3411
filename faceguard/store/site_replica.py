"""A kiosk's database as the replica of its site's server: the rows the server sends are copied in
as they are, and the access events decided here are read out for delivery.

The server's people, templates, thumbnails and former names have the same columns, ids and sealed
values as this file's (one face data key for the site), so copying a row keeps it openable and the
change-log triggers tell the kiosk's gallery, as an enrollment here would. Someone the server no
longer has is erased here as an admin's erasure would (secure delete, names redacted). How far the
copy has got (``REPLICA_SEQ``, the server's change-log position) and which events the server has
(``DELIVERED_THROUGH``, the last event id delivered; events are delivered in id order) are settings.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from faceguard.store import chain
from faceguard.store.base import guarded, inserted_id
from faceguard.store.db import write_transaction
from faceguard.store.people import PeopleTable
from faceguard.store.sealing import snapshot_row
from faceguard.store.settings_table import SettingsTable, put_setting

REPLICA_SEQ = "site.replica_seq"
EVENTS_PULLED_THROUGH = "site.events_pulled_through"
REPLICA_ID = "site.replica_id"
DELIVERED_THROUGH = "site.delivered_through"
#: The settings only this computer holds, never taken from the server: the link's own positions, the
#: admin password, this door's name, camera and lock output (its hardware).
LOCAL_SETTINGS = ("site.", "admin.", "changes_pruned_through", "kiosk.door", "kiosk.camera")
#: The door's name: the server names it (by the door's credentials), never a setting.
DOOR_NAME_SETTING = "kiosk.door"
#: The prefix of the server's per-door settings: ``door:<door name>:<key>``.
DOOR_SETTINGS = "door:"
#: The access log's own columns, as a site server holds them too (``faceguard.site.columns``).
LOG_COLUMNS = (
    "time",
    "door",
    "decision",
    "reason",
    "message",
    "person_id",
    "subject",
    "distance",
    "threshold",
    "model_id",
    "latency_ms",
    "liveness",
    "liveness_passed",
    "live_score",
    "liveness_motion",
    "door_action",
)
#: What a delivered event carries of them, with its unique id (its snapshot goes apart).
EVENT_COLUMNS = (*LOG_COLUMNS, "event_uid")


def door_setting(door: str, key: str) -> str:
    """The server's name for setting ``key`` at one door only (it wins over the site's value there)."""
    return f"{DOOR_SETTINGS}{door}:{key}"


def delivered_snapshot_row(event_uid: str) -> bytes:
    """A delivered snapshot's associated data: its event's unique id (server ids differ from the kiosk's)."""
    return b"snapshot of event " + event_uid.encode()


class SiteReplica(PeopleTable, SettingsTable):
    """Copies of the server's rows in, undelivered events out."""

    @guarded
    def replica_position(self) -> int:
        return int(self.get_setting(REPLICA_SEQ, 0))

    @guarded
    def apply_site_rows(
        self,
        seq: int,
        person_ids: Collection[int] | None,
        people: Sequence[dict[str, Any]],
        templates: Sequence[dict[str, Any]],
        former_names: Sequence[dict[str, Any]],
    ) -> frozenset[int]:
        """Make ``person_ids`` (None: everyone) as the server has them at its change ``seq``: the people,
        templates (with their thumbnails) and former names given; anyone of them the server no longer
        has is erased. Returns who was erased."""
        on_server = {row["id"] for row in people}
        local = self._person_ids(person_ids)
        gone = frozenset(local - on_server)
        for person_id in sorted(gone):
            PeopleTable.remove_person(self, person_id)  # this file's erasure, whoever subclasses the store
        with write_transaction(self.db):
            for row in people:
                _upsert(self.db, "people", "id", row)
            wanted = on_server if person_ids is None else set(person_ids) & on_server
            kept = {row["id"] for row in templates}
            for person_id in wanted:
                stale = [t for (t,) in self.db.execute("SELECT id FROM templates WHERE person_id = ?", [person_id])]
                for template_id in set(stale) - kept:
                    self.db.execute("DELETE FROM templates WHERE id = ?", [template_id])
                self.db.execute("DELETE FROM former_names WHERE person_id = ?", [person_id])
            for row in templates:
                thumbnail = {"template_id": row["id"], "jpeg": row["jpeg"], "landmarks": row["landmarks"]}
                _upsert(self.db, "templates", "id", {k: v for k, v in row.items() if k not in ("jpeg", "landmarks")})
                _upsert(self.db, "template_thumbnails", "template_id", thumbnail)
            for row in former_names:
                self.db.execute(
                    "INSERT OR IGNORE INTO former_names (person_id, name) VALUES (?, ?)",
                    [row["person_id"], row["name"]],
                )
            put_setting(self.db, REPLICA_SEQ, seq)
        return gone

    @guarded
    def people_ids(self) -> set[int]:
        return {row[0] for row in self.db.execute("SELECT id FROM people")}

    @guarded
    def apply_site_settings(self, settings: dict[str, str], door: str | None = None) -> bool:
        """Take the server's settings: the site's, except this computer's own, and those set for ``door``
        only (its lock's included), which win; whether any changed."""
        mine = f"{DOOR_SETTINGS}{door}:"
        wanted = {key: value for key, value in settings.items() if not key.startswith((*LOCAL_SETTINGS, DOOR_SETTINGS))}
        if door is not None:
            for key, value in settings.items():
                if key.startswith(mine) and not key.removeprefix(mine).startswith(("site.", "admin.")):
                    wanted[key.removeprefix(mine)] = value
            wanted.pop(DOOR_NAME_SETTING, None)
        with write_transaction(self.db):
            changed = False
            for key, value in wanted.items():
                row = self.db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
                if row is None or row[0] != value:
                    self.db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", [key, value])
                    changed = True
        return changed

    @guarded
    def events_pulled_through(self) -> int:
        return int(self.get_setting(EVENTS_PULLED_THROUGH, 0))

    @guarded
    def apply_site_events(self, rows: Sequence[dict[str, Any]]) -> int:
        """Copy the site's delivered events (an admin's replica: the whole access log) in one transaction,
        each chained here and its snapshot sealed anew to its id here; an event already here (by its
        unique id) is skipped. The position moves to the last row's ``seq``; how many were new."""
        if not rows:
            return 0
        sealer = self.sealer()
        columns = list(EVENT_COLUMNS)
        added = 0
        with write_transaction(self.db):
            for row in rows:
                if self.db.execute("SELECT 1 FROM access_events WHERE event_uid = ?", [row["event_uid"]]).fetchone():
                    continue
                values = {column: row[column] for column in columns}
                if (
                    values["person_id"] is not None
                    and not self.db.execute("SELECT 1 FROM people WHERE id = ?", [values["person_id"]]).fetchone()
                ):
                    values["person_id"] = None  # erased, or not copied here yet: the pseudonym stays
                cursor = self.db.execute(
                    f"INSERT INTO access_events ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                    list(values.values()),
                )
                event_id = inserted_id(cursor)
                chain.append(self.db, chain.ACCESS, event_id)
                if row.get("snapshot") is not None:
                    jpeg = sealer.open(row["snapshot"], delivered_snapshot_row(row["event_uid"]))
                    sealed = sealer.seal(jpeg, snapshot_row(event_id))
                    self.db.execute("INSERT INTO event_snapshots (event_id, jpeg) VALUES (?, ?)", [event_id, sealed])
                added += 1
            last = max(int(row["seq"]) for row in rows)
            put_setting(self.db, EVENTS_PULLED_THROUGH, last)
        return added

    @guarded
    def events_to_deliver(self, limit: int) -> list[dict[str, Any]]:
        """The oldest ``limit`` events not yet delivered, in id order, as the server stores them: with
        ``kiosk_event_id`` and the snapshot (if any) sealed anew to the event's unique id."""
        after = int(self.get_setting(DELIVERED_THROUGH, 0))
        columns = ", ".join(f"e.{column}" for column in EVENT_COLUMNS)
        rows = self._query(
            f"SELECT e.id AS kiosk_event_id, {columns}, s.jpeg AS snapshot FROM access_events e"
            " LEFT JOIN event_snapshots s ON s.event_id = e.id WHERE e.id > ? ORDER BY e.id LIMIT ?",
            [after, limit],
        )
        sealer = self.sealer()
        replica = self._replica_id()
        for row in rows:
            row["replica"] = replica
            if row["snapshot"] is not None:
                jpeg = sealer.open(row["snapshot"], snapshot_row(row["kiosk_event_id"]))
                row["snapshot"] = sealer.seal(jpeg, delivered_snapshot_row(row["event_uid"]))
        return rows

    def _replica_id(self) -> str:
        """This file's own id among a door's replicas (made on first need): its event ids count from 1."""
        replica = self.get_setting(REPLICA_ID)
        if replica is None:
            replica = uuid.uuid4().hex
            with write_transaction(self.db):
                put_setting(self.db, REPLICA_ID, replica)
        return str(replica)

    @guarded
    def mark_delivered(self, through_event_id: int) -> None:
        """The server has every event up to ``through_event_id``."""
        with write_transaction(self.db):
            put_setting(self.db, DELIVERED_THROUGH, through_event_id)

    @guarded
    def undelivered_count(self) -> int:
        after = int(self.get_setting(DELIVERED_THROUGH, 0))
        return int(self.db.execute("SELECT count(*) FROM access_events WHERE id > ?", [after]).fetchone()[0])

    def _person_ids(self, person_ids: Collection[int] | None) -> set[int]:
        """Those of ``person_ids`` (None: everyone) this file has."""
        local = self.people_ids()
        return local if person_ids is None else local & set(person_ids)


def _upsert(db: Any, table: str, key: str, row: dict[str, Any]) -> None:
    """Insert ``row`` or update the one with its ``key`` in place (no delete: the people's events keep them)."""
    columns = list(row)
    updates = ", ".join(f"{column} = excluded.{column}" for column in columns if column != key)
    db.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        f" ON CONFLICT ({key}) DO UPDATE SET {updates}",
        [row[column] for column in columns],
    )
