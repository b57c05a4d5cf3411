"""The admin password: set once, then needed by the admin window, every command that changes people,
settings or the log, and to close the kiosk or take it out of full screen.

It is stored as an argon2id hash (argon2-cffi's defaults, RFC 9106's low-memory profile: 3 passes over
64 MiB, 4 lanes, a 16-byte random salt; 0.24 s to check on 2 shared cores). Wrong passwords are
slowed down: after the n-th in a row the next attempt waits 2^(n-1) s (1, 2, 4, 8, 16, then 30 s at
most), counted in the database so a new process or a restarted window waits too; each is logged
(where, how many in a row, never what was typed). The right password clears the count.
"""

from __future__ import annotations

import enum
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from faceguard.core.clock import SYSTEM_CLOCK, Clock
from faceguard.core.errors import AdminPasswordError
from faceguard.store import admin_password as stored
from faceguard.store.base import StoreBase

#: NIST SP 800-63B's minimum for a chosen secret; any characters, spaces included (a passphrase), no
#: composition rules: the slowed attempts and argon2 do the rest.
MIN_LENGTH = 8
MAX_DELAY = 30.0
HASHER = PasswordHasher()


class Verdict(enum.Enum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    TOO_SOON = "too soon"  # another attempt failed meanwhile: wait() seconds first


def delay_after(failures: int) -> float:
    """Seconds before the next attempt after ``failures`` wrong ones in a row: 0, 1, 2, 4… capped at 30."""
    return 0.0 if failures <= 0 else min(2.0 ** min(failures - 1, 16), MAX_DELAY)


def remaining(failures: stored.Failures, moment: datetime) -> float:
    """Seconds from ``moment`` until another attempt may be made; never more than the delay itself, so a
    wall clock set back cannot lock the admin out for longer."""
    if failures.last is None:
        return 0.0
    delay = delay_after(failures.count)
    return min(max(delay - (moment - failures.last).total_seconds(), 0.0), delay)


def check_new_password(password: str, repeat: str) -> None:
    """Refuse a new password that is too short or was not typed the same twice."""
    if len(password) < MIN_LENGTH or not password.strip():
        raise AdminPasswordError(
            f"The admin password must have at least {MIN_LENGTH} characters (a passphrase of a few words is best)."
        )
    if password != repeat:
        raise AdminPasswordError("The two entries of the new admin password differ; type the same password twice.")


class AdminPassword:
    """The admin password of one database; ``clock`` gives the wall time the delays are counted in."""

    def __init__(self, store: StoreBase, clock: Clock = SYSTEM_CLOCK) -> None:
        self.store, self.clock = store, clock
        self._verified: str | None = None  # the hash the last accepted password matched

    @property
    def is_set(self) -> bool:
        return stored.password_hash(self.store) is not None

    def wait(self) -> float:
        """Seconds to wait before the next attempt (0 when one may be made now)."""
        return remaining(stored.failures(self.store), self.clock.wall())

    def failures(self) -> int:
        """Wrong attempts in a row so far."""
        return stored.failures(self.store).count

    def check(self, password: str, where: str) -> Verdict:
        """Whether ``password`` is the admin password; a wrong one is logged as typed at ``where``."""
        encoded = stored.password_hash(self.store)
        if encoded is None:
            raise AdminPasswordError(f"No admin password is set for {self.store.path}.")
        if stored.begin_attempt(self.store, self.clock.wall(), remaining) > 0:
            return Verdict.TOO_SOON
        try:
            HASHER.verify(encoded, password)
        except (VerificationError, InvalidHashError):
            stored.attempt_failed(self.store, where)
            return Verdict.WRONG
        stored.attempt_succeeded(self.store)
        self._verified = encoded
        return Verdict.ACCEPTED

    def set(self, password: str, repeat: str) -> None:
        """The first admin password (refused once one is set: change it instead)."""
        self._save(password, repeat, stored.SET, expected=None)

    def change(self, password: str, repeat: str) -> None:
        """A new admin password, once ``check`` accepted the current one."""
        if self._verified is None:
            raise AdminPasswordError("The current admin password must be given before it can be changed.")
        self._save(password, repeat, stored.CHANGED, expected=self._verified)

    def reset(self, password: str, repeat: str) -> None:
        """A new admin password without the current one (the locked-out site's recovery)."""
        self._save(password, repeat, stored.RESET, expected=None)

    def _save(self, password: str, repeat: str, action: str, expected: str | None) -> None:
        check_new_password(password, repeat)
        stored.save_password_hash(self.store, HASHER.hash(password), action, expected)
