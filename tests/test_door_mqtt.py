"""The MQTT relay driver against a real mosquitto broker the test starts on loopback (its own config, not
the system service), with a paho client subscribed to the relay's RPC topic standing in for the relay."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from faceguard.core.errors import DoorError, InvalidInputError
from faceguard.door.driver import Door, DoorState, Polarity
from faceguard.door.mqtt_relay import MqttRelayDriver, check_mqtt_address
from tests.clock_helpers import ManualClock
from tests.test_door import ManualTimer

MOSQUITTO = shutil.which("mosquitto", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
pytestmark = [
    pytest.mark.subprocess,
    pytest.mark.skipif(MOSQUITTO is None, reason="the mosquitto broker is not installed (apt-get install mosquitto)"),
]
PREFIX = "shellyplus1-a8032ab12345"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Broker:
    """A mosquitto process on a free loopback port; ``extra`` config lines (a password file) are added."""

    def __init__(self, folder: Path, extra: str = "allow_anonymous true\n") -> None:
        self.port = _free_port()
        self.config = folder / "mosquitto.conf"
        user = pwd.getpwuid(os.getuid()).pw_name  # as root, mosquitto would switch to its own user
        self.config.write_text(f"listener {self.port} 127.0.0.1\npersistence false\nuser {user}\n{extra}")
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        assert MOSQUITTO is not None
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto did not start: {self.process.stderr.read().decode()}")  # type: ignore[union-attr]
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto is not listening on port {self.port} after 10 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def url(self, credentials: str = "") -> str:
        return f"mqtt://{credentials}127.0.0.1:{self.port}/{PREFIX}"


class Relay:
    """Subscribes to the relay's RPC topic and keeps each JSON frame received."""

    def __init__(self, broker: Broker) -> None:
        self.frames: list[dict[str, Any]] = []
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2)
        subscribed = threading.Event()
        self._client.on_message = lambda client, userdata, message: self.frames.append(json.loads(message.payload))
        self._client.on_subscribe = lambda *args: subscribed.set()
        self._client.connect("127.0.0.1", broker.port)
        self._client.subscribe(f"{PREFIX}/rpc", qos=1)
        self._client.loop_start()
        assert subscribed.wait(5), "the test's subscriber was not subscribed"

    def wait_for(self, count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 5
        while len(self.frames) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(self.frames) >= count, self.frames
        return [frame["params"] for frame in self.frames]

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    running = Broker(tmp_path)
    yield running
    running.stop()


@pytest.fixture
def relay(broker: Broker) -> Iterator[Relay]:
    subscriber = Relay(broker)
    yield subscriber
    subscriber.close()


def _door(driver: MqttRelayDriver, pulse: float = 4) -> tuple[Door, ManualTimer]:
    clock = ManualClock()
    timer = ManualTimer(clock)
    return Door(driver, pulse, clock=clock, timer=timer), timer


def test_an_unlock_switches_the_relay_on_for_the_pulse_it_times_itself(broker: Broker, relay: Relay) -> None:
    driver = MqttRelayDriver(broker.url())
    assert driver.times_pulse
    door, timer = _door(driver, pulse=5)
    door.start()
    door.unlock()
    assert relay.wait_for(2) == [{"id": 0, "on": False}, {"id": 0, "on": True, "toggle_after": 5.0}]
    assert not timer.pending and door.state is DoorState.UNLOCKED  # no re-lock of FaceGuard's own
    frame = relay.frames[1]
    assert (frame["method"], frame["src"]) == ("Switch.Set", "faceguard") and frame["id"] != relay.frames[0]["id"]


def test_a_maglock_relay_is_switched_off_for_the_pulse(broker: Broker, relay: Relay) -> None:
    door, _ = _door(MqttRelayDriver(broker.url(), Polarity.ENERGISE_TO_LOCK), pulse=3)
    door.start()
    door.unlock()
    door.close()
    assert relay.wait_for(3) == [
        {"id": 0, "on": True},
        {"id": 0, "on": False, "toggle_after": 3.0},
        {"id": 0, "on": True},
    ]


def test_a_broker_that_is_down_keeps_the_door_locked_and_out_of_service(broker: Broker, relay: Relay) -> None:
    door, _ = _door(MqttRelayDriver(broker.url()))
    door.start()
    relay.wait_for(1)
    broker.stop()
    with pytest.raises(DoorError, match=f"OUT OF SERVICE.*MQTT relay {PREFIX} on 127.0.0.1.*cannot be reached"):
        door.unlock()
    assert door.out_of_service and door.state is DoorState.OUT_OF_SERVICE
    broker.start()  # the broker is back: the next unlock works and the door is in service again
    relay_again = Relay(broker)
    try:
        door.unlock()
        assert relay_again.wait_for(1) == [{"id": 0, "on": True, "toggle_after": 4.0}]
        assert door.state is DoorState.UNLOCKED and door.problem is None
    finally:
        relay_again.close()


def test_a_broker_that_refuses_the_login_is_a_door_error(tmp_path: Path) -> None:
    passwords = tmp_path / "passwords"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "door", "right"], check=True, capture_output=True)
    broker = Broker(tmp_path, f"allow_anonymous false\npassword_file {passwords}\n")
    try:
        with pytest.raises(DoorError, match="refused the connection"):
            MqttRelayDriver(broker.url("door:wrong@")).unlock(4)
        with pytest.raises(DoorError, match="refused the connection"):
            MqttRelayDriver(broker.url()).unlock(4)
        relay_login = MqttRelayDriver(broker.url("door:right@"))
        relay_login.unlock(4)  # the right password is accepted and acknowledged
    finally:
        broker.stop()


def test_a_broker_that_never_answers_times_out() -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    try:
        driver = MqttRelayDriver(f"mqtt://127.0.0.1:{listener.getsockname()[1]}/{PREFIX}", timeout=0.3)
        started = time.monotonic()
        with pytest.raises(DoorError, match="did not accept the connection within 0.3 s"):
            driver.unlock(4)
        assert time.monotonic() - started < 2
    finally:
        listener.close()


@pytest.mark.parametrize(
    ("address", "parts"),
    [
        ("mqtt://10.0.0.2/shelly1", ("10.0.0.2", 1883, "shelly1/rpc", None, None)),
        ("mqtt://door:secret@broker.lan:1884/site/door-1/", ("broker.lan", 1884, "site/door-1/rpc", "door", "secret")),
    ],
)
def test_the_address_names_the_broker_and_the_relays_topic_prefix(address: str, parts: tuple[object, ...]) -> None:
    parsed = check_mqtt_address(address)
    assert (parsed.host, parsed.port, parsed.topic, parsed.username, parsed.password) == parts


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("http://10.0.0.2/shelly1", "mqtt://host:port/<the relay's topic prefix>"),
        ("mqtt://10.0.0.2", "mqtt://host:port/<the relay's topic prefix>"),
        ("mqtt://10.0.0.2:99999/shelly1", "mqtt://host:port/<the relay's topic prefix>"),
        ("mqtt:///shelly1", "mqtt://host:port/<the relay's topic prefix>"),
        ("mqtt://10.0.0.2/shelly/#", "must not contain \\+ or #"),
        ("mqtt://10.0.0.2/+/door", "must not contain \\+ or #"),
    ],
)
def test_other_addresses_are_refused_with_the_form_expected(address: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        MqttRelayDriver(address)
