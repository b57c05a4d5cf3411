"""The serial relay driver against a pty pair: a fake LCUS-1 board thread reads the bytes from the
pty's master side and keeps the relay's state."""

from __future__ import annotations

import os
import threading
import time
import tty
from collections.abc import Iterator

import pytest

from faceguard.core.errors import DoorError
from faceguard.door.driver import Door, DoorState, Polarity
from faceguard.door.serial_relay import SerialRelayDriver, lcus_command
from tests.clock_helpers import ManualClock
from tests.test_door import ManualTimer


class FakeBoard:
    """Reads 4-byte LCUS-1 commands, checks them, and records the relay's state and every command."""

    def __init__(self) -> None:
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        self._slave = slave  # kept open so the master sees no hang-up between the driver's opens
        self.commands: list[bytes] = []
        self.energised: bool | None = None
        self.bad: list[bytes] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self.master, 64)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while len(buffer) >= 4:
                command, buffer = buffer[:4], buffer[4:]
                self.commands.append(command)
                if command[0] != 0xA0 or command[1] != 1 or command[3] != sum(command[:3]) & 0xFF:
                    self.bad.append(command)
                else:
                    self.energised = command[2] == 1

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 5
        while len(self.commands) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(self.commands) >= count, self.commands

    def close(self) -> None:
        os.close(self._slave)
        os.close(self.master)


@pytest.fixture
def board() -> Iterator[FakeBoard]:
    fake = FakeBoard()
    yield fake
    fake.close()


def test_the_lcus_1_commands() -> None:
    assert lcus_command(1, True) == bytes.fromhex("A00101A2")
    assert lcus_command(1, False) == bytes.fromhex("A00100A1")


def test_a_pulse_energises_the_relay_and_the_controller_releases_it(board: FakeBoard) -> None:
    clock = ManualClock()
    timer = ManualTimer(clock)
    door = Door(SerialRelayDriver(board.port), 4, clock=clock, timer=timer)
    door.start()
    door.unlock()
    board.wait_for(2)
    assert board.energised is True
    clock.advance(4)
    timer.fire_due()
    door.close()
    board.wait_for(4)
    assert board.commands == [bytes.fromhex(c) for c in ("A00100A1", "A00101A2", "A00100A1", "A00100A1")]
    assert board.energised is False and not board.bad and door.state is DoorState.LOCKED


def test_a_maglock_board_is_energised_while_locked(board: FakeBoard) -> None:
    door = Door(
        SerialRelayDriver(board.port, Polarity.ENERGISE_TO_LOCK), clock=ManualClock(), timer=ManualTimer(ManualClock())
    )
    door.start()
    board.wait_for(1)
    assert board.energised is True
    door.unlock()
    board.wait_for(2)
    assert board.energised is False
    door.close()


def test_a_missing_port_keeps_the_door_out_of_service() -> None:
    door = Door(SerialRelayDriver("/dev/faceguard-no-such-relay"), clock=ManualClock())
    with pytest.raises(DoorError, match="serial relay /dev/faceguard-no-such-relay"):
        door.unlock()
    assert door.out_of_service and door.problem is not None
