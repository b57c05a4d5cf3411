"""The Door controller's lock semantics, with a recording relay, a hand-moved clock and a hand-fired timer."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from faceguard.core.errors import DoorError, InvalidInputError
from faceguard.door.driver import DEFAULT_PULSE, Door, DoorState, Polarity
from faceguard.door.recording import RecordingDriver
from tests.clock_helpers import ManualClock


class ManualTimer:
    """Keeps the scheduled re-locks; ``fire_due`` runs those whose time on ``clock`` has come."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.pending: list[list[object]] = []  # [due, action, cancelled]

    def __call__(self, delay: float, action: Callable[[], None]) -> _Handle:
        entry: list[object] = [self.clock.monotonic() + delay, action, False]
        self.pending.append(entry)
        return _Handle(entry)

    def fire_due(self) -> None:
        for entry in list(self.pending):
            due, action, cancelled = entry
            if not cancelled and self.clock.monotonic() >= due:  # type: ignore[operator]
                self.pending.remove(entry)
                action()  # type: ignore[operator]


class _Handle:
    def __init__(self, entry: list[object]) -> None:
        self.entry = entry

    def cancel(self) -> None:
        self.entry[2] = True


def make_door(driver: RecordingDriver, pulse: float = DEFAULT_PULSE) -> tuple[Door, ManualClock, ManualTimer]:
    clock = ManualClock()
    timer = ManualTimer(clock)
    return Door(driver, pulse, clock=clock, timer=timer), clock, timer


def test_the_door_locks_on_start_and_on_close() -> None:
    driver = RecordingDriver()
    door, _, _ = make_door(driver)
    door.start()
    assert driver.calls == [("off", False, None)] and door.state is DoorState.LOCKED
    door.unlock()
    door.close()
    assert driver.calls[-1] == ("off", False, None) and driver.closed and not driver.unlocked


def test_an_unlock_pulse_is_relocked_by_the_controller_after_its_length() -> None:
    driver = RecordingDriver()
    door, clock, timer = make_door(driver, pulse=5)
    door.start()
    assert door.unlock() == 5
    assert driver.unlocked and door.state is DoorState.UNLOCKED
    clock.advance(4.9)
    timer.fire_due()
    assert driver.unlocked
    clock.advance(0.1)
    timer.fire_due()
    assert not driver.unlocked and door.state is DoorState.LOCKED


def test_poll_relocks_when_the_timer_did_not_fire() -> None:
    driver = RecordingDriver()
    door, clock, _ = make_door(driver)
    door.unlock()
    clock.advance(DEFAULT_PULSE)
    door.poll()
    assert not driver.unlocked and door.state is DoorState.LOCKED


def test_a_second_unlock_during_a_pulse_starts_the_pulse_again() -> None:
    driver = RecordingDriver()
    door, clock, timer = make_door(driver, pulse=4)
    door.unlock()
    clock.advance(3)
    door.unlock()
    clock.advance(3)
    timer.fire_due()
    assert driver.unlocked  # the first pulse's re-lock was cancelled
    clock.advance(1)
    timer.fire_due()
    assert not driver.unlocked


def test_a_relay_that_times_the_pulse_is_told_the_pulse_and_not_relocked_by_the_controller() -> None:
    driver = RecordingDriver(times_pulse=True)
    door, clock, timer = make_door(driver, pulse=3)
    door.start()
    door.unlock()
    assert driver.calls[-1] == ("on", True, 3.0) and not timer.pending
    clock.advance(3)
    door.poll()
    assert door.state is DoorState.LOCKED and driver.calls[-1] == ("on", True, 3.0)  # no lock command sent


def test_polarity_energise_to_lock_releases_the_relay_to_unlock_a_maglock() -> None:
    driver = RecordingDriver(Polarity.ENERGISE_TO_LOCK)
    door, clock, timer = make_door(driver)
    door.start()
    assert driver.energised is True  # a maglock holds while powered
    door.unlock()
    assert driver.energised is False and driver.unlocked
    clock.advance(DEFAULT_PULSE)
    timer.fire_due()
    assert driver.energised is True


def test_polarity_energise_to_unlock_powers_a_strike_only_during_the_pulse() -> None:
    driver = RecordingDriver(Polarity.ENERGISE_TO_UNLOCK)
    door, _, _ = make_door(driver)
    door.start()
    assert driver.energised is False
    door.unlock()
    assert driver.energised is True


@pytest.mark.parametrize("pulse", [0.5, 31, -1])
def test_the_pulse_must_be_between_1_and_30_seconds(pulse: float) -> None:
    with pytest.raises(InvalidInputError, match="between 1 and 30 seconds"):
        Door(RecordingDriver(), pulse)


def test_a_driver_error_keeps_the_door_locked_and_out_of_service() -> None:
    driver = RecordingDriver()
    door, _, timer = make_door(driver)
    door.start()
    driver.fail = "relay not answering"
    with pytest.raises(DoorError, match="OUT OF SERVICE.*relay not answering"):
        door.unlock()
    assert door.state is DoorState.OUT_OF_SERVICE and door.out_of_service
    assert door.problem is not None and "relay not answering" in door.problem
    assert not driver.unlocked and driver.calls[-1] == ("off", False, None)  # the controller tried to lock
    assert not timer.pending
    driver.fail = None
    door.unlock()  # the relay works again: back in service
    assert door.state is DoorState.UNLOCKED and door.problem is None


def test_an_error_on_start_or_when_relocking_puts_the_door_out_of_service() -> None:
    driver = RecordingDriver()
    driver.fail, driver.fail_lock = "unplugged", True
    door, clock, timer = make_door(driver)
    with pytest.raises(DoorError):
        door.start()
    assert door.out_of_service
    driver.fail, driver.fail_lock = None, False
    door.unlock()
    driver.fail, driver.fail_lock = "unplugged", True
    clock.advance(DEFAULT_PULSE)
    timer.fire_due()  # the timer thread swallows the error; the state says it
    assert door.out_of_service and "unplugged" in (door.problem or "")


def test_any_exception_from_a_driver_becomes_a_door_error() -> None:
    class Broken(RecordingDriver):
        def set_relay(self, energised: bool, pulse_s: float | None) -> None:
            if energised:
                raise OSError("bus error")
            super().set_relay(energised, pulse_s)

    door, _, _ = make_door(Broken())
    with pytest.raises(DoorError, match="recording relay: bus error"):
        door.unlock()
    assert door.out_of_service


def test_the_system_timer_relocks_for_real() -> None:
    driver = RecordingDriver()
    door = Door(driver, 1.0)
    door.unlock()
    assert driver.unlocked
    deadline = time.monotonic() + 5
    while driver.unlocked and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not driver.unlocked and door.state is DoorState.LOCKED


def test_an_unlock_carries_the_granted_persons_badge_to_the_driver() -> None:
    driver = RecordingDriver()
    door, _, _ = make_door(driver)
    door.unlock("12:34567")
    door.unlock()
    assert driver.badges == ["12:34567", None]
