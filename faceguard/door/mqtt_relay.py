"""A relay switched over MQTT with the Shelly Gen2+ RPC convention, so the relay times the pulse itself.

The address is ``mqtt://[user:password@]host[:port]/<prefix>`` (port 1883 by default), where ``<prefix>`` is
the device's MQTT topic prefix (a Shelly Plus's default is its device id, ``shellyplus1-a8032ab12345``). Each
command is one JSON-RPC frame published to ``<prefix>/rpc`` with QoS 1::

    {"id": 1, "src": "faceguard", "method": "Switch.Set", "params": {"id": 0, "on": true, "toggle_after": 4}}

``toggle_after`` makes the relay flip back by itself after the pulse, so a crash of FaceGuard cannot leave the
door open. Every command opens its own connection (nothing is held between unlocks), waits for the broker's
acknowledgement (PUBACK) for at most ``TIMEOUT`` seconds and disconnects; an unreachable broker, a refused
connection or a missing acknowledgement is a DoorError. The broker's acknowledgement says the broker took the
command, not that the relay switched. Plain MQTT only (no TLS).
"""

from __future__ import annotations

import itertools
import json
import threading
import urllib.parse
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.reasoncodes import ReasonCode

from faceguard.core.errors import DoorError, InvalidInputError
from faceguard.door.driver import Polarity, RelayDriver

#: Seconds to connect and to get the broker's acknowledgement; the kiosk's inference thread waits this long at most.
TIMEOUT = 2.0
DEFAULT_PORT = 1883
#: The RPC frames' source: where a Shelly would publish its answers (``faceguard/rpc``; nothing waits for them).
SOURCE = "faceguard"


@dataclass(frozen=True)
class MqttAddress:
    host: str
    port: int
    prefix: str
    username: str | None = None
    password: str | None = None

    @property
    def topic(self) -> str:
        return f"{self.prefix}/rpc"


def check_mqtt_address(address: str) -> MqttAddress:
    """The parts of ``mqtt://[user:password@]host[:port]/<prefix>``; raises InvalidInputError naming the form."""
    problem = f"The MQTT relay's address must be mqtt://host:port/<the relay's topic prefix>, got '{address}'."
    try:  # an unclosed [IPv6] bracket, a host name that changes under NFKC normalisation, a port out of range
        parts = urllib.parse.urlsplit(address.strip())
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise InvalidInputError(problem) from None
    prefix = parts.path.strip("/")
    if "+" in prefix or "#" in address:  # MQTT's wildcards (urlsplit would take a # for a fragment)
        raise InvalidInputError(f"The MQTT relay's topic prefix must not contain + or #, got '{address}'.")
    if parts.scheme != "mqtt" or not parts.hostname or not prefix or parts.query:
        raise InvalidInputError(problem)
    return MqttAddress(parts.hostname, port, prefix, parts.username, parts.password)


class MqttRelayDriver(RelayDriver):
    times_pulse = True

    def __init__(
        self,
        address: str,
        polarity: Polarity = Polarity.ENERGISE_TO_UNLOCK,
        *,
        switch: int = 0,
        timeout: float = TIMEOUT,
    ) -> None:
        super().__init__(polarity)
        self.address, self.switch, self.timeout = check_mqtt_address(address), switch, timeout
        self.name = f"MQTT relay {self.address.prefix} on {self.address.host}:{self.address.port}"
        self._ids = itertools.count(1)

    def command(self, energised: bool, pulse_s: float | None) -> dict[str, Any]:
        """The Switch.Set RPC frame: the relay ``on`` or off, flipped back after ``pulse_s`` when given."""
        params: dict[str, Any] = {"id": self.switch, "on": energised}
        if pulse_s is not None:
            params["toggle_after"] = pulse_s
        return {"id": next(self._ids), "src": SOURCE, "method": "Switch.Set", "params": params}

    def set_relay(self, energised: bool, pulse_s: float | None) -> None:
        payload = json.dumps(self.command(energised, pulse_s))
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv311)
        client.connect_timeout = self.timeout
        if self.address.username is not None:
            client.username_pw_set(self.address.username, self.address.password)
        answered = threading.Event()
        refusal: list[str] = []

        def on_connect(client: mqtt.Client, userdata: object, flags: object, reason: ReasonCode, _: object) -> None:
            if reason.is_failure:
                refusal.append(str(reason))
            answered.set()

        client.on_connect = on_connect
        try:
            client.connect(self.address.host, self.address.port, keepalive=max(5, int(self.timeout * 3)))
        except OSError as error:
            raise DoorError(f"{self.name}: the broker cannot be reached ({error}).") from None
        client.loop_start()
        try:
            self._publish(client, payload, answered, refusal)
        finally:
            client.disconnect()
            client.loop_stop()

    def _publish(self, client: mqtt.Client, payload: str, answered: threading.Event, refusal: list[str]) -> None:
        if not answered.wait(self.timeout):
            raise DoorError(f"{self.name}: the broker did not accept the connection within {self.timeout:g} s.")
        if refusal:
            raise DoorError(f"{self.name}: the broker refused the connection ({refusal[0]}).")
        message = client.publish(self.address.topic, payload, qos=1)
        try:
            message.wait_for_publish(self.timeout)
        except (RuntimeError, ValueError) as error:
            raise DoorError(f"{self.name}: the command was not sent ({error}).") from None
        if not message.is_published():
            raise DoorError(f"{self.name}: the broker did not acknowledge the command within {self.timeout:g} s.")
