"""The HTTP relay drivers against a real HTTP server on loopback, run in a thread by the test."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from faceguard.core.errors import DoorError, InvalidInputError
from faceguard.door.driver import Door, Polarity
from faceguard.door.http_relay import HttpRelayDriver
from tests.clock_helpers import ManualClock


class Relay(ThreadingHTTPServer):
    """Records each request's path; answers ``status`` (200 unless a test breaks it)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.paths: list[str] = []
        self.status = 200

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Relay

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.server.paths.append(self.path)
        self.send_response(self.server.status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def relay() -> Iterator[Relay]:
    server = Relay()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _door(driver: HttpRelayDriver, pulse: float = 4) -> Door:
    return Door(driver, pulse, clock=ManualClock(), timer=lambda delay, action: _NoTimer())


class _NoTimer:
    def cancel(self) -> None:
        pass


def test_a_webhook_is_called_with_on_to_unlock_and_off_to_lock(relay: Relay) -> None:
    door = _door(HttpRelayDriver.webhook(relay.url + "/door?relay={state}"))
    door.start()
    door.unlock()
    door.lock()
    assert relay.paths == ["/door?relay=off", "/door?relay=on", "/door?relay=off"]


def test_a_webhook_for_a_maglock_inverts_the_relay(relay: Relay) -> None:
    door = _door(HttpRelayDriver.webhook(relay.url + "/{state}", Polarity.ENERGISE_TO_LOCK))
    door.start()
    door.unlock()
    assert relay.paths == ["/on", "/off"]


def test_a_shelly_relay_is_told_the_pulse_and_times_it_itself(relay: Relay) -> None:
    driver = HttpRelayDriver.shelly_relay(relay.url + "/")
    assert driver.times_pulse
    door = _door(driver, pulse=5)
    door.start()
    door.unlock()
    assert relay.paths == ["/relay/0?turn=off", "/relay/0?turn=on&timer=5"]


def test_a_shelly_maglock_is_released_for_the_pulse(relay: Relay) -> None:
    door = _door(HttpRelayDriver.shelly_relay(relay.url, Polarity.ENERGISE_TO_LOCK), pulse=3)
    door.unlock()
    assert relay.paths == ["/relay/0?turn=off&timer=3"]


def test_an_error_answer_keeps_the_door_locked_and_out_of_service(relay: Relay) -> None:
    door = _door(HttpRelayDriver.webhook(relay.url + "/{state}"))
    relay.status = 500
    with pytest.raises(DoorError, match="answered 500"):
        door.unlock()
    assert door.out_of_service and relay.paths == ["/on", "/off"]  # the controller tried to lock


def test_a_relay_that_cannot_be_reached_is_a_door_error() -> None:
    server = Relay()
    url = server.url
    server.server_close()  # nothing listens there now
    door = _door(HttpRelayDriver.webhook(url + "/{state}"))
    with pytest.raises(DoorError, match="cannot be reached"):
        door.unlock()
    assert door.out_of_service


def test_a_relay_that_does_not_answer_times_out() -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    try:
        driver = HttpRelayDriver(f"http://127.0.0.1:{listener.getsockname()[1]}/{{state}}", shelly=False, timeout=0.3)
        with pytest.raises(DoorError, match="cannot be reached"):
            driver.unlock(4)
    finally:
        listener.close()


@pytest.mark.parametrize("url", ["ftp://relay/{state}", "relay/{state}", "http:///{state}", "http://relay/door"])
def test_a_webhook_must_be_an_http_url_with_the_state(url: str) -> None:
    with pytest.raises(InvalidInputError):
        HttpRelayDriver.webhook(url)
