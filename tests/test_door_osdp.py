"""The OSDP reader output against libosdp's own control panel in the same process: the reader opens the
slave side of a pty pair as its serial port, the panel talks on the master side."""

from __future__ import annotations

import os
import time
import tty
from collections.abc import Iterator
from typing import Any

import pytest
from osdp import CardFormat, Channel, ControlPanel, Event, LogLevel, PDInfo  # type: ignore[import-untyped]

from faceguard.core.errors import DoorError, InvalidInputError
from faceguard.door.driver import Door, DoorState
from faceguard.door.osdp_reader import OsdpAddress, OsdpReaderDriver, check_osdp_address, wiegand26
from tests.clock_helpers import ManualClock
from tests.test_door import ManualTimer

READER = 1


class _Master(Channel):  # type: ignore[misc]
    """The panel's end of the line: the pty's master side, read without blocking."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd
        os.set_blocking(fd, False)

    def read(self, max_bytes: int) -> bytes:
        try:
            return os.read(self.fd, max_bytes)
        except BlockingIOError:
            return b""

    def write(self, buf: bytes) -> int:
        return os.write(self.fd, buf)

    def flush(self) -> None:
        pass


class Line:
    """A pty pair: ``port`` for the reader; ``start_panel`` puts a control panel polling reader 1 on it."""

    def __init__(self) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self.panel: Any = None

    def start_panel(self) -> Any:
        self.panel = ControlPanel([PDInfo(READER, _Master(self.master))], log_level=LogLevel.Error)
        self.panel.start()
        return self.panel

    def card_reads(self, wait: float) -> list[dict[str, Any]]:
        """The card reads the panel received within ``wait`` seconds of the first (status events skipped)."""
        reads = []
        while (event := self.panel.get_event(READER, timeout=wait)) is not None:
            if event["event"] == Event.CardRead:
                reads.append(event)
                wait = 0.3
        return reads

    def close(self) -> None:
        if self.panel is not None:
            self.panel.teardown()
        os.close(self._slave)
        os.close(self.master)


@pytest.fixture
def line() -> Iterator[Line]:
    pair = Line()
    yield pair
    pair.close()


def _door(driver: OsdpReaderDriver) -> tuple[Door, ManualTimer]:
    clock = ManualClock()
    timer = ManualTimer(clock)
    return Door(driver, 4, clock=clock, timer=timer), timer


def decode_h10301(data: bytes, length: int) -> tuple[int, int]:
    """Facility and card of a 26-bit H10301 card read, after checking both parity bits."""
    assert length == 26
    value = int.from_bytes(data, "big") >> (len(data) * 8 - 26)
    bits = [(value >> (25 - i)) & 1 for i in range(26)]
    assert sum(bits[:13]) % 2 == 0, "even parity over the first half"
    assert sum(bits[13:]) % 2 == 1, "odd parity over the second half"
    number = int("".join(map(str, bits[1:25])), 2)
    return number >> 16, number & 0xFFFF


def test_a_granted_badge_reaches_the_panel_as_a_26_bit_card_read(line: Line) -> None:
    line.start_panel()
    door, timer = _door(OsdpReaderDriver(f"{line.port}@{READER}"))
    door.start()
    assert door.unlock("12:34567") == 4
    [read] = line.card_reads(wait=2)
    assert (read["format"], read["length"], read["reader_no"]) == (CardFormat.Wiegand, 26, 0)
    assert decode_h10301(read["data"], read["length"]) == (12, 34567)
    assert door.state is DoorState.UNLOCKED and not timer.pending  # the panel times its own strike
    door.unlock("255:65535")
    door.close()
    [read] = line.card_reads(wait=2)
    assert decode_h10301(read["data"], read["length"]) == (255, 65535)


@pytest.mark.parametrize(("badge", "expected"), [("1:1", "80800080"), ("0:0", "00000040"), ("12:34567", "864383c0")])
def test_the_badge_is_an_h10301_card_left_aligned_in_4_bytes(badge: str, expected: str) -> None:
    assert wiegand26(badge).hex() == expected


@pytest.mark.parametrize("badge", [None, "", "DEMO-1", "12345", "256:1", "1:65536"])
def test_a_badge_that_is_missing_or_not_a_26_bit_card_keeps_the_door_out_of_service(
    line: Line, badge: str | None
) -> None:
    line.start_panel()
    door, _ = _door(OsdpReaderDriver(f"{line.port}@{READER}"))
    door.start()
    with pytest.raises(
        DoorError, match="OUT OF SERVICE.*(polls this reader, but there is no badge|write it as facility:card)"
    ):
        door.unlock(badge)
    assert door.out_of_service and line.card_reads(wait=0.5) == []
    door.close()


def test_a_panel_that_does_not_poll_the_reader_is_a_door_error(line: Line) -> None:
    door, _ = _door(OsdpReaderDriver(f"{line.port}@{READER}", timeout=0.5))
    door.start()
    started = time.monotonic()
    with pytest.raises(DoorError, match="the access panel is not polling this reader.*address 1 and the speed 9600"):
        door.unlock("12:34567")
    assert time.monotonic() - started < 2 and door.out_of_service
    door.close()


def test_a_missing_port_keeps_the_door_out_of_service() -> None:
    door, _ = _door(OsdpReaderDriver("/dev/faceguard-no-such-line@1"))
    with pytest.raises(DoorError, match="OSDP reader 1 on /dev/faceguard-no-such-line"):
        door.start()
    assert door.out_of_service


@pytest.mark.parametrize(
    ("text", "address"),
    [("/dev/ttyUSB0@1", OsdpAddress("/dev/ttyUSB0", 1, 9600)), ("COM4@126:115200", OsdpAddress("COM4", 126, 115200))],
)
def test_the_address_names_the_port_the_reader_address_and_the_speed(text: str, address: OsdpAddress) -> None:
    assert check_osdp_address(text) == address


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("/dev/ttyUSB0", "PORT@ADDRESS or PORT@ADDRESS:BAUD"),
        ("@1", "PORT@ADDRESS or PORT@ADDRESS:BAUD"),
        ("/dev/ttyUSB0@127", "address must be 0 to 126, got 127"),
        ("/dev/ttyUSB0@1:9601", "speed must be one of 9600, 19200"),
    ],
)
def test_other_addresses_are_refused_with_the_form_expected(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        OsdpReaderDriver(text)
