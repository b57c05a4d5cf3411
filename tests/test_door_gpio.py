"""The GPIO relay driver against gpiozero's MockFactory: the test reads the mock pin's level."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gpiozero import Device, OutputDevice  # type: ignore[import-untyped]
from gpiozero.pins.mock import MockFactory  # type: ignore[import-untyped]

from faceguard.core.errors import DoorError, InvalidInputError
from faceguard.door.driver import Door, DoorState, Polarity
from faceguard.door.gpio_relay import GpioRelayDriver, check_pin
from tests.clock_helpers import ManualClock
from tests.test_door import ManualTimer


@pytest.fixture
def pins() -> Iterator[Any]:
    """gpiozero's mock pins for the test; the previous factory (none, or another test's) comes back after."""
    before = Device.pin_factory
    factory = MockFactory()
    Device.pin_factory = factory
    yield factory
    factory.close()
    Device.pin_factory = before


def _door(pin: str, polarity: Polarity, pulse: float = 4) -> tuple[Door, ManualClock, ManualTimer]:
    clock = ManualClock()
    timer = ManualTimer(clock)
    return Door(GpioRelayDriver(pin, polarity), pulse, clock=clock, timer=timer), clock, timer


def test_a_strike_pin_is_high_only_for_the_pulse_the_controller_times(pins: Any) -> None:
    door, clock, timer = _door("GPIO17", Polarity.ENERGISE_TO_UNLOCK, pulse=5)
    pin = pins.pin(17)
    door.start()
    assert pin.function == "output" and pin.state is False
    door.unlock()
    assert pin.state is True and door.state is DoorState.UNLOCKED
    clock.advance(4.9)
    timer.fire_due()
    assert pin.state is True
    clock.advance(0.1)
    timer.fire_due()
    assert pin.state is False and door.state is DoorState.LOCKED


def test_a_maglock_pin_is_high_while_locked_and_low_for_the_pulse(pins: Any) -> None:
    door, clock, timer = _door("27", Polarity.ENERGISE_TO_LOCK, pulse=3)
    pin = pins.pin(27)
    door.start()
    assert pin.state is True
    door.unlock()
    assert pin.state is False
    clock.advance(3)
    timer.fire_due()
    assert pin.state is True and door.state is DoorState.LOCKED


def test_the_pin_is_claimed_at_the_locked_level_and_released_on_close(pins: Any) -> None:
    door, _, _ = _door("GPIO4", Polarity.ENERGISE_TO_LOCK)
    pin = pins.pin(4)
    pin.drive_high()  # the line as a pull-up leaves it: a maglock relay held
    door.start()
    assert pin.function == "output" and [s.state for s in pin.states] == [False, True]  # never dropped to unlock
    door.close()
    assert pin.function == "input"
    OutputDevice("GPIO4").close()  # free for the next user


def test_a_pin_in_use_keeps_the_door_out_of_service_with_the_reason(pins: Any) -> None:
    other = OutputDevice("GPIO17")
    try:
        door, _, _ = _door("GPIO17", Polarity.ENERGISE_TO_UNLOCK)
        with pytest.raises(DoorError, match="OUT OF SERVICE.*GPIO relay GPIO17: .*in use"):
            door.unlock()
        assert door.out_of_service and door.problem is not None and "GPIO17" in door.problem
        assert other.value == 0  # the relay was never energised
    finally:
        other.close()
    door.unlock()  # the pin is free again: the door is back in service
    assert pins.pin(17).state is True and door.state is DoorState.UNLOCKED


def test_a_computer_without_gpio_pins_is_a_clear_door_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Device, "pin_factory", None)
    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "no-such-factory")
    door, _, _ = _door("GPIO17", Polarity.ENERGISE_TO_UNLOCK)
    with pytest.raises(DoorError, match="finds no GPIO pins on this computer"):
        door.start()
    assert door.out_of_service


@pytest.mark.parametrize(
    ("address", "pin"), [("17", "GPIO17"), ("GPIO17", "GPIO17"), (" gpio5 ", "GPIO5"), ("0", "GPIO0")]
)
def test_the_pin_is_a_bcm_number(address: str, pin: str) -> None:
    assert check_pin(address) == pin


@pytest.mark.parametrize("address", ["28", "GPIO40", "BOARD11", "pin 17", "-1", ""])
def test_other_pins_are_refused_with_what_is_allowed(address: str) -> None:
    with pytest.raises(InvalidInputError, match="BCM number from 0 to 27, written 17 or GPIO17"):
        GpioRelayDriver(address)
