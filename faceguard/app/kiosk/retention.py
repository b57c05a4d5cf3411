"""The kiosk's retention purge: at its first frame and once a day after, face snapshots and access
events older than the site's limits are deleted (``faceguard.store.retention``), so a kiosk left
running for months keeps no more than the site set, with no other program to schedule."""

from __future__ import annotations

import logging

from faceguard.app.settings import load_settings
from faceguard.core.clock import Clock
from faceguard.core.errors import FaceGuardError
from faceguard.store.repository import Store
from faceguard.store.retention import Purge

log = logging.getLogger(__name__)

#: Seconds between purges.
PURGE_EVERY = 24 * 3600.0
#: Seconds before trying again after a purge could not run (the file was locked, the settings unusable).
RETRY = 600.0


class DailyPurge:
    """Runs the purge when it is due, by the kiosk's clock; the limits are read from the settings each time."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._due = clock.monotonic()

    def run_if_due(self, store: Store) -> Purge | None:
        """Purge if a day has passed since the last purge (or none ran yet); what was purged, else None.
        A failure is logged and tried again in ``RETRY`` seconds: the door keeps working meanwhile."""
        if self.clock.monotonic() < self._due:
            return None
        try:
            settings = load_settings(store)
            purge = store.purge_expired(
                settings.snapshot_retention_days, settings.event_retention_days, at=self.clock.wall()
            )
        except FaceGuardError as error:
            log.warning("The retention purge is put off for %.0f min: %s", RETRY / 60, error)
            self._due = self.clock.monotonic() + RETRY
            return None
        self._due = self.clock.monotonic() + PURGE_EVERY
        if purge.snapshots or purge.events:
            log.info("Retention: deleted %d face snapshots and %d access events.", purge.snapshots, purge.events)
        return purge
