"""A relay on one of the Raspberry Pi's GPIO pins, switched through gpiozero.

The address is the pin's BCM number, written ``17`` or ``GPIO17`` (BCM 0-27, the 40-pin header's GPIOs;
not the physical pin number). The pin drives the relay module's input high to energise it. The pin does
not time a pulse, so the ``Door`` controller re-locks after it. The pin is claimed on the first command,
already at the level asked for, and released on ``close``: gpiozero then makes it an input, so the relay
drops out (a fail-safe maglock opens when the kiosk stops, as on a power cut).
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from gpiozero import BadPinFactory, GPIOZeroError, OutputDevice  # type: ignore[import-untyped]

from faceguard.core.errors import DoorError, InvalidInputError
from faceguard.door.driver import Polarity, RelayDriver

#: The BCM numbers of the GPIOs on the Raspberry Pi's 40-pin header.
MIN_PIN, MAX_PIN = 0, 27
#: Up to 9 ASCII digits: Python refuses to read a number of more than 4300 digits.
_PIN = re.compile(r"(?:GPIO)?([0-9]{1,9})", re.IGNORECASE)


def check_pin(address: str) -> str:
    """``17`` or ``GPIO17`` as gpiozero's name for the pin, ``GPIO17``; raises InvalidInputError otherwise."""
    match = _PIN.fullmatch(address.strip())
    if match is None or not MIN_PIN <= int(match[1]) <= MAX_PIN:
        raise InvalidInputError(
            f"The relay's GPIO pin must be a BCM number from {MIN_PIN} to {MAX_PIN}, written 17 or GPIO17, "
            f"got '{address}'."
        )
    return f"GPIO{int(match[1])}"


class GpioRelayDriver(RelayDriver):
    times_pulse = False

    def __init__(self, pin: str, polarity: Polarity = Polarity.ENERGISE_TO_UNLOCK) -> None:
        super().__init__(polarity)
        self.pin = check_pin(pin)
        self.name = f"GPIO relay {self.pin}"
        self._device: Any = None

    def set_relay(self, energised: bool, pulse_s: float | None) -> None:
        try:
            if self._device is None:
                self._device = OutputDevice(self.pin, active_high=True, initial_value=energised)
            else:
                self._device.value = energised
        except BadPinFactory:
            raise DoorError(
                f"{self.name}: gpiozero finds no GPIO pins on this computer (on a Raspberry Pi, install lgpio "
                "beside FaceGuard: pip install lgpio)."
            ) from None
        except (GPIOZeroError, OSError) as error:
            self._release()
            raise DoorError(f"{self.name}: {error}") from None

    def close(self) -> None:
        self._release()

    def _release(self) -> None:
        if self._device is not None:
            with contextlib.suppress(GPIOZeroError, OSError):
                self._device.close()
            self._device = None
