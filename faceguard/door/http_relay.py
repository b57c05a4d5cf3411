"""Relays switched over HTTP: a generic webhook, and Shelly-style relays that time the pulse themselves.

- ``HttpRelayDriver.webhook(template)``: ``template`` is a URL with ``{state}``, which becomes ``on``
  (relay energised) or ``off``; the controller times the pulse.
- ``HttpRelayDriver.shelly(base)``: ``<base>/relay/0?turn=on&timer=S``; the relay flips back after S
  seconds by itself, so a crash of FaceGuard cannot leave the door open.

Only http and https URLs; every request has a timeout, and any answer outside 2xx is a DoorError.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

from faceguard.core.errors import DoorError, InvalidInputError
from faceguard.door.driver import Polarity, RelayDriver

#: Seconds a relay may take to answer; the kiosk's inference thread waits this long at most.
TIMEOUT = 2.0


def check_url(url: str, what: str) -> str:
    problem = InvalidInputError(f"The {what} must be an http:// or https:// URL, got '{url}'.")
    try:
        parts = urllib.parse.urlsplit(url.strip())
    except ValueError:  # an unclosed [IPv6] bracket, a host name that changes under NFKC normalisation
        raise problem from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise problem
    return url.strip()


class HttpRelayDriver(RelayDriver):
    def __init__(
        self,
        url: str,
        *,
        shelly: bool,
        polarity: Polarity = Polarity.ENERGISE_TO_UNLOCK,
        channel: int = 0,
        timeout: float = TIMEOUT,
    ) -> None:
        super().__init__(polarity)
        self.url, self.shelly, self.channel, self.timeout = url, shelly, channel, timeout
        self.times_pulse = shelly
        self.name = f"{'Shelly relay' if shelly else 'HTTP relay'} {urllib.parse.urlsplit(url).netloc}"

    @classmethod
    def webhook(cls, template: str, polarity: Polarity = Polarity.ENERGISE_TO_UNLOCK) -> HttpRelayDriver:
        template = check_url(template, "door webhook")
        if "{state}" not in template:
            raise InvalidInputError(
                f"The door webhook must contain {{state}} (replaced by on or off), got '{template}'."
            )
        return cls(template, shelly=False, polarity=polarity)

    @classmethod
    def shelly_relay(cls, base: str, polarity: Polarity = Polarity.ENERGISE_TO_UNLOCK) -> HttpRelayDriver:
        return cls(check_url(base, "Shelly relay address").rstrip("/"), shelly=True, polarity=polarity)

    def request_url(self, energised: bool, pulse_s: float | None) -> str:
        state = "on" if energised else "off"
        if not self.shelly:
            return self.url.replace("{state}", state)
        query = {"turn": state} | ({"timer": f"{pulse_s:g}"} if pulse_s is not None else {})
        return f"{self.url}/relay/{self.channel}?{urllib.parse.urlencode(query)}"

    def set_relay(self, energised: bool, pulse_s: float | None) -> None:
        url = self.request_url(energised, pulse_s)
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as answer:  # noqa: S310 - checked scheme
                status = answer.status
        except urllib.error.HTTPError as error:
            raise DoorError(f"{self.name} answered {error.code} {error.reason} to {url}.") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise DoorError(f"{self.name} cannot be reached ({reason}).") from None
        if not 200 <= status < 300:
            raise DoorError(f"{self.name} answered {status} to {url}.")
