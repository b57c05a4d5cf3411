"""The door's lock output: what a driver must do, and the ``Door`` controller that holds the semantics
of a real lock.

- A **driver** switches one relay (or asks a device to). It knows the lock's **polarity**: a fail-secure
  electric strike is *energised to unlock* (a power cut keeps it locked); a fail-safe maglock is
  *energised to lock* (a power cut opens it). The controller only ever says unlock or lock.
- A driver whose relay **times the pulse itself** (``times_pulse``: a Shelly's ``timer=``) is preferred:
  if FaceGuard crashes during a pulse, the relay still locks. For the others the controller re-locks
  after the pulse with a timer of its own, checked against the monotonic clock.
- An **access panel's reader** (OSDP) is told the granted person's badge instead (``unlock``'s ``badge``);
  the panel decides and drives its own lock. Relays ignore the badge.
- The controller locks on ``start`` and on ``close``. A driver error keeps the door locked (the
  controller tries to lock), puts the door OUT OF SERVICE and raises ``DoorError`` for the caller to log;
  the next successful unlock or lock puts it back in service.
"""

from __future__ import annotations

import contextlib
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from enum import StrEnum
from typing import Protocol

from faceguard.core.clock import SYSTEM_CLOCK, Clock
from faceguard.core.errors import DoorError, InvalidInputError

#: The unlock pulse: long enough to push the door, short enough that it is not left open.
DEFAULT_PULSE = 4.0
MIN_PULSE, MAX_PULSE = 1.0, 30.0


class Polarity(StrEnum):
    """Which relay state unlocks the door."""

    ENERGISE_TO_UNLOCK = "energise-to-unlock"  # fail-secure electric strike
    ENERGISE_TO_LOCK = "energise-to-lock"  # fail-safe maglock

    def energised(self, unlocked: bool) -> bool:
        """Whether the relay is energised when the door is ``unlocked``."""
        return unlocked if self is Polarity.ENERGISE_TO_UNLOCK else not unlocked


class DoorState(StrEnum):
    LOCKED = "locked"
    UNLOCKED = "unlocked"
    OUT_OF_SERVICE = "OUT OF SERVICE"


class DoorDriver(ABC):
    """One lock output. ``unlock(pulse_s, badge)``: open the lock (for ``pulse_s`` seconds when the driver
    ``times_pulse``; otherwise until ``lock``) for the person with ``badge`` (None: no badge, or not known).
    Each method raises ``DoorError`` when the device fails."""

    #: True when the relay locks again by itself after the pulse (a crash cannot leave the door open).
    times_pulse: bool = False
    #: What the driver talks to, for messages ("HTTP relay http://10.0.0.5").
    name: str = "door"

    @abstractmethod
    def unlock(self, pulse_s: float, badge: str | None = None) -> None: ...

    @abstractmethod
    def lock(self) -> None: ...

    def close(self) -> None:  # noqa: B027 - most drivers hold nothing open
        """Release the device (after the controller's last ``lock``)."""


class RelayDriver(DoorDriver):
    """A driver for one relay: applies the lock's polarity and switches the relay with ``set_relay``."""

    def __init__(self, polarity: Polarity = Polarity.ENERGISE_TO_UNLOCK) -> None:
        self.polarity = polarity

    def unlock(self, pulse_s: float, badge: str | None = None) -> None:
        self.set_relay(self.polarity.energised(True), pulse_s if self.times_pulse else None)

    def lock(self) -> None:
        self.set_relay(self.polarity.energised(False), None)

    @abstractmethod
    def set_relay(self, energised: bool, pulse_s: float | None) -> None:
        """Switch the relay; with ``pulse_s``, the relay switches back by itself after that many seconds."""


class Cancel(Protocol):
    def cancel(self) -> None: ...


#: Calls a function after some seconds on another thread; returns what cancels it.
Timer = Callable[[float, Callable[[], None]], Cancel]


def thread_timer(delay: float, action: Callable[[], None]) -> Cancel:
    timer = threading.Timer(delay, action)
    timer.daemon = True
    timer.start()
    return timer


def check_pulse(pulse_s: float) -> float:
    if not MIN_PULSE <= pulse_s <= MAX_PULSE:
        raise InvalidInputError(
            f"The door's unlock pulse must be between {MIN_PULSE:g} and {MAX_PULSE:g} seconds, got {pulse_s:g}."
        )
    return float(pulse_s)


class Door:
    """One door: its driver, pulse length and state. Thread-safe (the kiosk unlocks from its inference
    thread, the re-lock timer runs on its own)."""

    def __init__(
        self,
        driver: DoorDriver,
        pulse_s: float = DEFAULT_PULSE,
        *,
        clock: Clock = SYSTEM_CLOCK,
        timer: Timer = thread_timer,
    ) -> None:
        self.driver, self.pulse_s, self.clock, self._timer = driver, check_pulse(pulse_s), clock, timer
        self._guard = threading.RLock()
        self._relock: Cancel | None = None
        self._unlocked_until: float | None = None
        self.state = DoorState.LOCKED
        self.problem: str | None = None  # why the door is out of service

    @property
    def out_of_service(self) -> bool:
        return self.state is DoorState.OUT_OF_SERVICE

    def start(self) -> None:
        """Lock the door, whatever state the relay was left in."""
        with self._guard:
            self._run(self.driver.lock, DoorState.LOCKED)

    def unlock(self, badge: str | None = None) -> float:
        """Open the door for the pulse, for the person with ``badge``; returns the pulse in seconds. A second
        unlock during a pulse starts the pulse again. Raises DoorError (the door then stays locked, out of
        service)."""
        with self._guard:
            self._cancel_relock()
            self._run(lambda: self.driver.unlock(self.pulse_s, badge), DoorState.UNLOCKED)
            self._unlocked_until = self.clock.monotonic() + self.pulse_s
            if not self.driver.times_pulse:
                self._relock = self._timer(self.pulse_s, self._pulse_over)
            return self.pulse_s

    def lock(self) -> None:
        with self._guard:
            self._cancel_relock()
            self._run(self.driver.lock, DoorState.LOCKED)

    def poll(self) -> None:
        """Re-lock when the pulse is over by the clock (the timer's backstop; the kiosk calls it per frame)."""
        with self._guard:
            if self._unlocked_until is not None and self.clock.monotonic() >= self._unlocked_until:
                self._pulse_over()

    def close(self) -> None:
        """Lock, then release the driver. Raises DoorError if the door could not be locked."""
        with self._guard:
            try:
                self.lock()
            finally:
                self.driver.close()

    def _pulse_over(self) -> None:
        with self._guard:
            self._unlocked_until = None
            self._relock = None
            if self.driver.times_pulse:  # the relay has locked by itself
                if self.state is DoorState.UNLOCKED:
                    self.state = DoorState.LOCKED
                return
            with contextlib.suppress(DoorError):  # on the timer's thread: the state and problem say it
                self._run(self.driver.lock, DoorState.LOCKED)

    def _cancel_relock(self) -> None:
        if self._relock is not None:
            self._relock.cancel()
            self._relock = None
        self._unlocked_until = None

    def _run(self, action: Callable[[], None], state: DoorState) -> None:
        try:
            action()
        except Exception as error:  # noqa: BLE001 - any driver failure: keep the door locked
            self._fail(error)
        self.state, self.problem = state, None

    def _fail(self, error: Exception) -> None:
        self._cancel_relock()
        with contextlib.suppress(Exception):  # the first error is the one to report
            self.driver.lock()
        detail = str(error) if isinstance(error, DoorError) else f"{self.driver.name}: {error}"
        self.state = DoorState.OUT_OF_SERVICE
        self.problem = f"The door is OUT OF SERVICE and kept locked: {detail}"
        raise DoorError(self.problem) from error
