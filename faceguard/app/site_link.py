"""A kiosk's link to its site's server: its SQLite file kept as a replica of the server, and the access
events decided at this door delivered to the server exactly once.

The kiosk never asks the server anything to decide: its engine reads the local replica and its
in-memory gallery, as a stand-alone kiosk does, so it keeps deciding when the network or the server is
down. The link, in a thread of its own with its own connection to the file:

- on a new replica (position 0), copies everyone (people, templates with thumbnails, former names) in
  batches of ``COPY_BATCH`` people, from the change-log position read before the copy;
- then follows the server's change log: the people changed since its position are copied again
  (erased here if the server no longer has them); it waits on the server's NOTIFY, so an enrollment
  reaches the door within about a second, and looks again every ``POLL`` seconds anyway;
- takes the server's settings (this computer's own are kept; those set for this door win) and its
  door rules (groups, schedules, holidays: whole tables, a few dozen rows);
- a door's link delivers the events not yet delivered, oldest first, ``DELIVERY_BATCH`` at a time: the
  server keeps each event's unique id once, and the position is moved on only after the server
  committed, so a delivery cut short is sent again without duplicates and none is lost; an admin's
  link (its credentials name no door) copies the site's access log the other way instead;
- when the server cannot be reached, says since when and tries again after 1, 2, 5, 5… seconds.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from faceguard.core.clock import SYSTEM_CLOCK, Clock
from faceguard.core.errors import SiteUnreachableError
from faceguard.site.server import SiteServer
from faceguard.store.repository import Store

log = logging.getLogger(__name__)

#: The kiosk's door name, as the server names this door's credentials.
DOOR_SETTING = "kiosk.door"
COPY_BATCH = 5_000
DELIVERY_BATCH = 500
#: Seconds between looks at the server when no NOTIFY came (settings changes, a missed notification).
POLL = 5.0
#: Seconds a round of the link may take before its connection is cut under it: a network that went
#: silent without closing the connection (a proxy or firewall dropping packets) would otherwise leave a
#: query waiting for ever while the kiosk said it was online. A new replica's first copy gets longer.
ROUND_LIMIT = 30.0
COPY_LIMIT = 600.0
#: Seconds before each new attempt to reach the server, by failures in a row; the last one repeats.
RETRY = (1.0, 2.0, 5.0)


@dataclass(frozen=True)
class LinkState:
    """What the kiosk shows about its link: online or not since when, and what is still to deliver."""

    online: bool
    since: datetime
    replica_seq: int
    undelivered: int
    problem: str | None = None

    def notice(self) -> str | None:
        """The kiosk's service line while it decides from its replica (None when online)."""
        if self.online:
            return None
        when = self.since.astimezone().strftime("%H:%M")
        waiting = f" {self.undelivered} access event(s) will be sent when it is back." if self.undelivered else ""
        return f"Site server unreachable since {when}: deciding from this kiosk's copy.{waiting}"


class SiteLink:
    """Keeps the replica ``db_path`` in step with the server at ``url``; ``start()`` runs it in a thread."""

    def __init__(
        self,
        url: str,
        db_path: Path,
        clock: Clock = SYSTEM_CLOCK,
        connect: Callable[[str], SiteServer] = SiteServer.connect,
    ) -> None:
        self.url, self.db_path, self.clock, self._connect = url, db_path, clock, connect
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._state = LinkState(False, clock.wall(), 0, 0, "Not connected yet.")
        self.delivered = 0  # events the server took as new, since start
        self._door: str | None = None  # as the server names this link's credentials

    @property
    def state(self) -> LinkState:
        with self._lock:
            return self._state

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="site-link", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """Until ``stop()``: connect, copy, follow and deliver; on a lost server, retry with backoff. Nothing
        ends the link but ``stop()``: a failure of this computer's file or an unexpected error is logged,
        shown as the link being down, and tried again."""
        failures = 0
        while not self._stop.is_set():
            try:
                with Store.open(self.db_path) as store:
                    while not self._stop.is_set():
                        try:
                            with self._connect(self.url) as server:
                                server.listen()
                                failures = 0
                                self._follow(server, store)
                        except (SiteUnreachableError, psycopg.Error) as error:
                            self._offline(_first_line(error), store)
                            self._stop.wait(RETRY[min(failures, len(RETRY) - 1)])
                            failures += 1
            except Exception as error:  # noqa: BLE001 - this computer's file (locked, full), or a bug: keep trying
                log.exception("The site link stopped: %s", error)
                self._offline(f"This kiosk's copy cannot be kept: {_first_line(error)}")
                self._stop.wait(RETRY[-1])

    def sync_once(self, server: SiteServer, store: Store) -> int:
        """One round: copy what changed on the server, take its settings, deliver the events waiting;
        returns how many people were copied."""
        self._door = server.door_name()
        if self._door is not None and store.get_setting(DOOR_SETTING) != self._door:
            store.set_setting(DOOR_SETTING, self._door)  # the kiosk shows and logs the door the server knows
        copied = self._copy_changes(server, store)
        store.apply_site_settings(server.settings(), self._door)
        store.replace_door_rules(server.door_rule_rows())
        if self._door is not None:
            self._deliver(server, store)
        else:  # an admin's replica: the site's access log comes the other way
            while rows := server.events_after(store.events_pulled_through(), DELIVERY_BATCH):
                store.apply_site_events(rows)
        return copied

    def _follow(self, server: SiteServer, store: Store) -> None:
        while not self._stop.is_set():
            limit = ROUND_LIMIT if store.replica_position() else COPY_LIMIT
            with _severed_after(server, limit):  # a network gone silent: the stuck call fails, the link reconnects
                self.sync_once(server, store)
            self._online(store)
            server.wait_for_change(timeout=min(POLL, 1.0) if store.undelivered_count() else POLL)

    def _copy_changes(self, server: SiteServer, store: Store) -> int:
        position = store.replica_position()
        if position == 0:
            return self._copy_everything(server, store)
        last, changed = server.changes_after(position)
        if last == position:
            return 0
        self._copy(server, store, last, changed)
        return len(changed)

    def _copy_everything(self, server: SiteServer, store: Store) -> int:
        """A new replica: everyone, in batches; the position is set by the last batch only, so an
        interrupted copy starts again (rows already copied are overwritten in place)."""
        seq = server.last_change()  # read first: changes made during the copy are followed after it
        people = sorted(server.people_rows(None), key=lambda row: row["id"])
        ids = [row["id"] for row in people]
        if gone := store.people_ids() - set(ids):  # a replica that had people the site no longer has
            store.apply_site_rows(0, gone, [], [], [])
        for start in range(0, max(len(ids), 1), COPY_BATCH):
            last_batch = start + COPY_BATCH >= len(ids)
            end = start + COPY_BATCH
            self._copy(server, store, seq if last_batch else 0, ids[start:end], people[start:end])
        return len(ids)

    def _copy(
        self,
        server: SiteServer,
        store: Store,
        seq: int,
        person_ids: Collection[int],
        people: list[dict[str, Any]] | None = None,
    ) -> None:
        people = server.people_rows(person_ids) if people is None else people
        templates = server.template_rows(person_ids) if person_ids else []
        former = server.former_name_rows(person_ids) if person_ids else []
        store.apply_site_rows(seq, person_ids, people, templates, former)

    def _deliver(self, server: SiteServer, store: Store) -> None:
        """Deliver the events waiting, as this door's (the server names the door of these credentials)."""
        while rows := store.events_to_deliver(DELIVERY_BATCH):
            for row in rows:
                row["door"] = self._door
            self.delivered += server.deliver_events(rows)
            store.mark_delivered(rows[-1]["kiosk_event_id"])

    def _online(self, store: Store) -> None:
        with self._lock:
            since = self._state.since if self._state.online else self.clock.wall()
            self._state = LinkState(True, since, store.replica_position(), store.undelivered_count())

    def _offline(self, problem: str, store: Store | None = None) -> None:
        """Offline since the first failure in a row; the replica's figures are read again unless the file
        is what failed (``store`` None)."""
        figures = (
            {} if store is None else {"replica_seq": store.replica_position(), "undelivered": store.undelivered_count()}
        )
        with self._lock:
            if self._state.online:
                log.warning("Site server unreachable: %s. Deciding from this kiosk's copy.", problem)
            since = self._state.since if not self._state.online else self.clock.wall()
            self._state = replace(self._state, online=False, since=since, problem=problem, **figures)


@contextlib.contextmanager
def _severed_after(server: SiteServer, seconds: float) -> Iterator[None]:
    """Cut ``server``'s connection if the block is still running after ``seconds``."""
    timer = threading.Timer(seconds, server.sever)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0].rstrip(".") if text else type(error).__name__
