"""An OSDP reader output: FaceGuard is a card reader (an OSDP peripheral device) on an access panel's
RS-485 line, and tells the panel the granted person's badge as a card read. The panel decides and drives
its own lock: FaceGuard sends no unlock command, and the panel's rules (schedules, anti-passback, its
strike time) apply to the face as to a card.

- The address is ``PORT@ADDRESS[:BAUD]``: the RS-485 adapter's serial port, the reader's OSDP address
  (0-126) as configured on the panel, and the line's speed (9600 by default): ``/dev/ttyUSB0@1``,
  ``COM4@2:115200``.
- The badge is sent as a 26-bit Wiegand card (HID H10301), the format every panel knows: it must be written
  ``facility:card`` (facility 0-255, card 0-65535), e.g. ``12:34567``.
- The reader answers the panel's polls from ``start`` (the controller's first lock) to ``close``, on a thread
  of libosdp's. ``unlock`` waits (``TIMEOUT`` at most, each) for the panel to be polling the reader, then
  to take the card read; otherwise it raises DoorError. ``lock`` only starts the reader: the panel locks
  its door itself, after its own strike time (``times_pulse``).
- No secure channel key is configured: the reader starts in OSDP install mode, so a panel may use plain
  messages or the install-time key (SCBK-D).
"""

from __future__ import annotations

import contextlib
import queue
import re
import time
from dataclasses import dataclass
from typing import Any

import serial  # type: ignore[import-untyped]
from osdp import (  # type: ignore[import-untyped]
    Capability,
    CardFormat,
    Channel,
    CompletionStatus,
    Event,
    LogLevel,
    PDCapabilities,
    PDInfo,
    PeripheralDevice,
)

from faceguard.core.errors import DoorError, InvalidInputError
from faceguard.door.driver import DoorDriver

#: Seconds the panel may take to take a card read (it polls a reader every few tens of milliseconds).
TIMEOUT = 2.0
DEFAULT_BAUD = 9600
BAUDS = (9600, 19200, 38400, 57600, 115200, 230400)
MAX_ADDRESS = 126  # 127 is the broadcast address
#: Numbers of up to 9 ASCII digits: Python refuses to read a number of more than 4300 digits.
_ADDRESS = re.compile(r"(?P<port>[^@]+)@(?P<address>[0-9]{1,9})(?::(?P<baud>[0-9]{1,9}))?")
_BADGE = re.compile(r"(\d+):(\d+)")


@dataclass(frozen=True)
class OsdpAddress:
    port: str
    address: int
    baud: int = DEFAULT_BAUD


def check_osdp_address(text: str) -> OsdpAddress:
    """The parts of ``PORT@ADDRESS[:BAUD]``; raises InvalidInputError naming the form."""
    match = _ADDRESS.fullmatch(text.strip())
    if match is None:
        raise InvalidInputError(
            f"The OSDP reader's address must be PORT@ADDRESS or PORT@ADDRESS:BAUD (/dev/ttyUSB0@1), got '{text}'."
        )
    address, baud = int(match["address"]), int(match["baud"] or DEFAULT_BAUD)
    if address > MAX_ADDRESS:
        raise InvalidInputError(f"The OSDP reader's address must be 0 to {MAX_ADDRESS}, got {address}.")
    if baud not in BAUDS:
        raise InvalidInputError(f"The OSDP line's speed must be one of {', '.join(map(str, BAUDS))}, got {baud}.")
    return OsdpAddress(match["port"].strip(), address, baud)


def wiegand26(badge: str) -> bytes:
    """The badge ``facility:card`` as an H10301 card: even parity over the first 12 bits, 8 bits of facility,
    16 of card, odd parity over the last 12; the 26 bits left-aligned in 4 bytes. Raises DoorError."""
    match = _BADGE.fullmatch(badge.strip())
    if match is None or int(match[1]) > 0xFF or int(match[2]) > 0xFFFF:
        raise DoorError(
            f"The badge '{badge}' cannot be sent to the access panel: write it as facility:card, a 26-bit card "
            "(facility 0-255, card 0-65535), e.g. 12:34567."
        )
    bits = f"{int(match[1]):08b}{int(match[2]):016b}"
    even = str(bits[:12].count("1") % 2)
    odd = str(1 - bits[12:].count("1") % 2)
    return int(even + bits + odd + "000000", 2).to_bytes(4, "big")


class _SerialChannel(Channel):  # type: ignore[misc]
    """libosdp's byte stream over a serial port that never blocks a read."""

    def __init__(self, port: Any) -> None:
        super().__init__()
        self.port = port

    def read(self, max_bytes: int) -> bytes:
        return bytes(self.port.read(max_bytes))

    def write(self, buf: bytes) -> int:
        return int(self.port.write(buf))

    def flush(self) -> None:
        self.port.reset_input_buffer()


class OsdpReaderDriver(DoorDriver):
    times_pulse = True  # the panel locks its door after its own strike time

    def __init__(self, address: str, *, timeout: float = TIMEOUT) -> None:
        self.address, self.timeout = check_osdp_address(address), timeout
        self.name = f"OSDP reader {self.address.address} on {self.address.port}"
        self._port: Any = None
        self._reader: Any = None
        self._taken: queue.Queue[tuple[dict[str, Any], int]] = queue.Queue()

    def unlock(self, pulse_s: float, badge: str | None = None) -> None:
        reader = self._started()
        deadline = time.monotonic() + self.timeout  # a reader just started is online at the panel's first poll
        while not reader.is_online() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not reader.is_online():
            raise DoorError(
                f"{self.name}: the access panel is not polling this reader (check the wiring, the reader's "
                f"address {self.address.address} and the speed {self.address.baud} on the panel)."
            )
        if not badge:  # checked once the line is known to work, so a door test says whether it does
            raise DoorError(
                f"{self.name}: the access panel polls this reader, but there is no badge to send it "
                "(the person granted has none, or this is a door test)."
            )
        card = wiegand26(badge)
        event = {
            "event": Event.CardRead,
            "reader_no": 0,
            "direction": 0,
            "format": CardFormat.Wiegand,
            "length": 26,
            "data": card,
        }
        while not self._taken.empty():  # a card read the panel took after an earlier unlock gave up
            self._taken.get_nowait()
        if not reader.submit_event(event):
            raise DoorError(f"{self.name}: libosdp did not queue the card read.")
        try:
            taken, status = self._taken.get(timeout=self.timeout)
        except queue.Empty:
            raise DoorError(
                f"{self.name}: the access panel did not take the card read within {self.timeout:g} s."
            ) from None
        if status != CompletionStatus.Ok or taken.get("data") != card:
            raise DoorError(f"{self.name}: the card read was not delivered to the access panel (status {status}).")

    def lock(self) -> None:
        self._started()

    def close(self) -> None:
        if self._reader is not None:
            with contextlib.suppress(Exception):  # a reader thread that is already gone
                self._reader.teardown()
            self._reader = None
        if self._port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                self._port.close()
            self._port = None

    def _started(self) -> Any:
        """The reader answering the panel's polls, started on first use."""
        if self._reader is not None:
            return self._reader
        try:
            self._port = serial.Serial(self.address.port, self.address.baud, timeout=0, write_timeout=self.timeout)
        except (serial.SerialException, OSError) as error:
            raise DoorError(f"{self.name}: {error}") from None
        info = PDInfo(self.address.address, _SerialChannel(self._port), name="faceguard")
        capabilities = PDCapabilities([(Capability.CardDataFormat, 1, 1)])
        self._reader = PeripheralDevice(
            info,
            capabilities,
            log_level=LogLevel.Error,
            event_completion_handler=lambda event, status: self._taken.put((event, status)),
        )
        self._reader.start()
        return self._reader
