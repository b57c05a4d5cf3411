"""The site's door rules as a running kiosk applies them: read from the database, and read again soon
after an administrator changes them.

Every admin write of a group, its doors, a holiday or the site's time zone adds an admin-log record, so
the kiosk looks at the newest record's id every ``LOOK`` seconds and reads the rules again when it
changed; it also reads them every ``REREAD`` seconds whatever the log says (rows copied in without a
record of their own, such as a site server's). Reading 50 groups of 10 doors and 30 holidays takes a
few milliseconds (tests/test_door_rules_store.py times it). A file busy at that moment keeps the rules
read before; rules that cannot be read at all (a hand edit, an unknown time zone) refuse everyone,
with the reason, until they are corrected.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

from faceguard.access.door_rules import DoorRules, DoorVerdict
from faceguard.access.policy import PersonStatus, door_check
from faceguard.app.settings import site_time_zone
from faceguard.core.clock import Clock
from faceguard.core.errors import InvalidInputError, StoreError
from faceguard.store.repository import Store

log = logging.getLogger(__name__)

#: Seconds between looks at the admin log for a change.
LOOK = 0.5
#: Seconds after which the rules are read again whatever the admin log says.
REREAD = 5.0


class LiveDoorRules:
    """The door rules of the database at ``store``, followed on the ``clock``'s monotonic seconds."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store, self.clock = store, clock
        self.rules: DoorRules | None = None
        self.problem = "The door rules have not been read yet."
        self._head: int | None = None
        self._looked = self._read = -math.inf
        self.refresh()

    def refresh(self) -> None:
        """Read the rules again if the admin log changed since, or ``REREAD`` seconds passed (looks at
        most every ``LOOK`` seconds)."""
        now = self.clock.monotonic()
        if now - self._looked < LOOK:
            return
        self._looked = now
        try:
            head = self.store.last_admin_action()
            if head == self._head and now - self._read < REREAD:
                return
            self.rules = self.store.door_rules(site_time_zone(self.store))
        except InvalidInputError as error:
            self.rules, self.problem = None, str(error)
            log.error("The door rules cannot be applied: %s", error)
        except StoreError as error:  # busy: the rules read before stay, the next look tries again
            if self.rules is None:
                self.problem = str(error)
            return
        self._head, self._read = head, now

    def check(self, person: PersonStatus, door: str, at: datetime) -> DoorVerdict:
        """Whether ``person`` may open ``door`` at ``at``; refused while the rules cannot be read."""
        if self.rules is None:
            return DoorVerdict(False, f"The door rules cannot be applied: {self.problem}")
        return door_check(self.rules, door)(person, at)
