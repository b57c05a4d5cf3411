"""USB-serial relay boards speaking the common LCUS-1 protocol (CH340 boards sold as "LCUS-1 USB relay").

A command is four bytes: ``A0``, the relay number, the state (1 on, 0 off) and the sum of the three
(modulo 256): ``A0 01 01 A2`` energises relay 1, ``A0 01 00 A1`` releases it. The board does not time
a pulse, so the ``Door`` controller re-locks after it; 9600 baud, 8N1.
"""

from __future__ import annotations

import contextlib
from typing import Any

import serial  # type: ignore[import-untyped]

from faceguard.core.errors import DoorError
from faceguard.door.driver import Polarity, RelayDriver

BAUD = 9600
#: Seconds a write may block (a board unplugged mid-write).
WRITE_TIMEOUT = 1.0


def lcus_command(relay: int, energised: bool) -> bytes:
    body = bytes((0xA0, relay, 1 if energised else 0))
    return body + bytes((sum(body) & 0xFF,))


class SerialRelayDriver(RelayDriver):
    times_pulse = False

    def __init__(self, port: str, polarity: Polarity = Polarity.ENERGISE_TO_UNLOCK, *, relay: int = 1) -> None:
        super().__init__(polarity)
        self.port, self.relay = port, relay
        self.name = f"serial relay {port}"
        self._serial: Any = None

    def set_relay(self, energised: bool, pulse_s: float | None) -> None:
        try:
            if self._serial is None:
                self._serial = serial.Serial(self.port, BAUD, timeout=WRITE_TIMEOUT, write_timeout=WRITE_TIMEOUT)
            self._serial.write(lcus_command(self.relay, energised))
            self._serial.flush()
        except (serial.SerialException, OSError) as error:
            self._drop()
            raise DoorError(f"{self.name}: {error}") from None

    def close(self) -> None:
        self._drop()

    def _drop(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                self._serial.close()
            self._serial = None
