"""A driver that only records what it was told: the demo's door and the tests' relay."""

from __future__ import annotations

from faceguard.core.errors import DoorError
from faceguard.door.driver import Polarity, RelayDriver


class RecordingDriver(RelayDriver):
    """Records each call as ``(what, energised, pulse_s)`` in ``calls`` and each unlock's badge in
    ``badges``; ``energised`` is the relay now. Set ``fail`` to a message to make the next calls raise
    DoorError (a broken relay)."""

    name = "recording relay"

    def __init__(self, polarity: Polarity = Polarity.ENERGISE_TO_UNLOCK, *, times_pulse: bool = False) -> None:
        super().__init__(polarity)
        self.times_pulse = times_pulse
        self.calls: list[tuple[str, bool, float | None]] = []
        self.badges: list[str | None] = []
        self.energised: bool | None = None
        self.closed = False
        self.fail: str | None = None
        self.fail_lock = False  # lock fails too (a relay that is gone)

    def unlock(self, pulse_s: float, badge: str | None = None) -> None:
        if self.fail:
            raise DoorError(f"{self.name}: {self.fail}")
        self.badges.append(badge)
        super().unlock(pulse_s, badge)

    def lock(self) -> None:
        if self.fail and self.fail_lock:
            raise DoorError(f"{self.name}: {self.fail}")
        super().lock()

    def set_relay(self, energised: bool, pulse_s: float | None) -> None:
        self.calls.append(("on" if energised else "off", energised, pulse_s))
        self.energised = energised

    @property
    def unlocked(self) -> bool:
        return self.energised is not None and self.energised == self.polarity.energised(True)

    def close(self) -> None:
        self.closed = True
