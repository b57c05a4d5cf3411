"""The kiosk's settings, kept in the database so the admin window and a running kiosk share them."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, get_type_hints

from faceguard.access.liveness import ChallengeConfig, LivenessMode
from faceguard.access.policy import PolicyConfig
from faceguard.access.rate_limit import MAX_DENIALS, MAX_PAUSE, PAUSE, RateLimitConfig
from faceguard.access.schedule import site_zone
from faceguard.core.errors import InvalidInputError
from faceguard.door.driver import DEFAULT_PULSE, Polarity, check_pulse
from faceguard.door.gpio_relay import check_pin
from faceguard.door.http_relay import check_url
from faceguard.door.mqtt_relay import check_mqtt_address
from faceguard.door.osdp_reader import check_osdp_address
from faceguard.matching.calibration import DEFAULT_MAX_FPIR
from faceguard.store.repository import Store
from faceguard.store.retention import EVENT_DAYS, SNAPSHOT_DAYS, check_days
from faceguard.vision.spec import DEFAULT_MODEL

PREFIX = "kiosk."
DEVICES = ("auto", "cpu", "cuda", "mps")
_DEVICE = re.compile(r"auto|(cpu|cuda|mps)(:\d+)?")
#: The door outputs: none, a webhook URL with {state}, a Shelly-style relay's address, a serial port, a GPIO
#: pin, an MQTT relay (mqtt://host:port/prefix), an OSDP reader line to an access panel (PORT@ADDRESS).
DOOR_DRIVERS = ("none", "http", "shelly", "serial", "gpio", "mqtt", "osdp")
POLARITIES = tuple(p.value for p in Polarity)
LIVENESS_MODES = tuple(mode.value for mode in LivenessMode)


def save_time_zone(store: Store, name: str) -> str:
    """Store the site's time zone alone (the door rules follow its wall clock); InvalidInputError if
    ``name`` is no IANA zone. Returns the name stored."""
    name = name.strip()
    site_zone(name)
    store.set_setting(PREFIX + "time_zone", name)
    return name


def local_zone_name() -> str:
    """This computer's IANA time zone: $TZ, /etc/timezone or where /etc/localtime points; "UTC" when
    none of them names one (Windows, or a zone the tz database lacks)."""
    candidates = [os.environ.get("TZ", "").removeprefix(":")]
    with contextlib.suppress(OSError, UnicodeDecodeError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        candidates.append(str(localtime.resolve()).partition("zoneinfo/")[2])
    for name in filter(None, candidates):
        with contextlib.suppress(InvalidInputError):
            site_zone(name)
            return name
    return "UTC"


@dataclass(frozen=True)
class KioskSettings:
    """What an administrator may change; each field is stored under ``kiosk.<field>``.

    camera: a webcam index ("0"), a video file, an rtsp:// or http:// URL, or a folder of images.
    threshold: a fixed distance threshold; None derives it from ``max_fpir`` and the number of people
    enrolled (``faceguard.app.site_threshold``).
    max_fpir: the site's target: at most this share of strangers' appearances matched to someone.
    threads: CPU threads for inference (1 keeps the other core free for camera and screen).
    door_driver: the lock output (``DOOR_DRIVERS``); door_address: for http a URL with ``{state}``
    (on/off), for shelly the relay's base URL, for serial the port (/dev/ttyUSB0, COM3), for gpio the BCM
    pin (17 or GPIO17), for mqtt ``mqtt://host:port/<prefix>``, for osdp ``PORT@ADDRESS[:BAUD]``.
    door_pulse: seconds the door stays unlocked (1-30); door_polarity: energise-to-unlock (a fail-secure
    strike) or energise-to-lock (a fail-safe maglock).
    liveness: the presentation-attack checks (``LIVENESS_MODES``: off, passive, active, both; active asks
    a recognised face for a random head turn); liveness_timeout: seconds to answer it; liveness_both_ways:
    ask for a turn to the other side as well; liveness_nod: accept a nod instead of the turn (for people who
    cannot turn their head; off by default, as a photo tilted back and forth fakes a nod more easily than
    a turn: docs/liveness.md); liveness_models: the site's passive model files (a folder
    with MiniFASNetV2 and MiniFASNetV1SE .pth files), needed by passive and both; live_threshold: the mean
    live score below which a face is refused as a photo or screen. rate_limit_denials, rate_limit_pause:
    a face box refused this many times within a minute is not judged again for this many seconds
    (``faceguard.access.rate_limit``). snapshot_retention_days, event_retention_days: face snapshots and
    access events older than this are deleted (30 and 90 days by default: ``faceguard.store.retention``
    says why), by a running kiosk once a day and by ``faceguard db purge``. time_zone: the site's IANA
    time zone, whose wall clock the door rules' schedules and holidays follow (``faceguard.access.schedule``).
    """

    site_name: str = "FaceGuard"
    door: str = "Main door"
    camera: str = "0"
    device: str = "auto"
    model: str = DEFAULT_MODEL
    threshold: float | None = None
    max_fpir: float = DEFAULT_MAX_FPIR
    threads: int = 1
    k: int = 3
    n: int = 5
    cooldown: float = 10.0
    sound: bool = True
    door_driver: str = "none"
    door_address: str = ""
    door_pulse: float = DEFAULT_PULSE
    door_polarity: str = Polarity.ENERGISE_TO_UNLOCK.value
    liveness: str = LivenessMode.ACTIVE.value
    liveness_timeout: float = ChallengeConfig.timeout
    liveness_both_ways: bool = False
    liveness_nod: bool = False
    liveness_models: str = ""
    live_threshold: float = 0.5
    rate_limit_denials: int = MAX_DENIALS
    rate_limit_pause: float = PAUSE
    snapshot_retention_days: int = SNAPSHOT_DAYS
    event_retention_days: int = EVENT_DAYS
    time_zone: str = field(default_factory=local_zone_name)

    def __post_init__(self) -> None:
        if not self.site_name.strip():
            raise InvalidInputError("The site name must not be empty.")
        if not self.camera.strip():
            raise InvalidInputError("Choose a camera: a webcam number, a video file, a URL or a folder of images.")
        if not _DEVICE.fullmatch(self.device):
            raise InvalidInputError(f"The device must be one of {', '.join(DEVICES)} (or cuda:N), got '{self.device}'.")
        if self.threshold is not None and not 0 < self.threshold < 2:
            raise InvalidInputError(f"The threshold must be between 0 and 2, got {self.threshold}.")
        if not 0 < self.max_fpir < 1:
            raise InvalidInputError(f"The share of strangers let in must be between 0 and 1, got {self.max_fpir}.")
        if self.threads < 1:
            raise InvalidInputError(f"Inference needs at least one thread, got {self.threads}.")
        self._check_door()
        self._check_liveness()
        if self.rate_limit_denials < 1:
            raise InvalidInputError(
                f"A face must be refused at least once before it is paused, got {self.rate_limit_denials}."
            )
        if not self.rate_limit_pause > 0:
            raise InvalidInputError(
                f"The pause after too many attempts must be a positive number of seconds, got {self.rate_limit_pause}."
            )
        check_days(self.snapshot_retention_days, "Face snapshots")
        check_days(self.event_retention_days, "Access events")
        site_zone(self.time_zone)
        try:
            self.policy()  # k, n and cooldown are checked by the policy's own rules
            self.rate_limit()
        except ValueError as error:
            raise InvalidInputError(str(error)) from None

    def _check_door(self) -> None:
        if self.door_driver not in DOOR_DRIVERS:
            raise InvalidInputError(
                f"The door output must be one of {', '.join(DOOR_DRIVERS)}, got '{self.door_driver}'."
            )
        if self.door_polarity not in POLARITIES:
            raise InvalidInputError(
                f"The lock's polarity must be one of {', '.join(POLARITIES)}, got '{self.door_polarity}'."
            )
        check_pulse(self.door_pulse)
        if self.door_driver == "none":
            return
        if not self.door_address.strip():
            what = {
                "http": "webhook URL",
                "shelly": "relay's address",
                "serial": "serial port",
                "gpio": "GPIO pin",
                "mqtt": "mqtt:// address",
                "osdp": "serial port and reader address",
            }[self.door_driver]
            raise InvalidInputError(f"The door output {self.door_driver} needs its {what}.")
        if self.door_driver == "http":
            check_url(self.door_address, "door webhook")
            if "{state}" not in self.door_address:
                raise InvalidInputError(
                    f"The door webhook must contain {{state}} (replaced by on or off), got '{self.door_address}'."
                )
        elif self.door_driver == "shelly":
            check_url(self.door_address, "Shelly relay address")
        elif self.door_driver == "gpio":
            check_pin(self.door_address)
        elif self.door_driver == "mqtt":
            check_mqtt_address(self.door_address)
        elif self.door_driver == "osdp":
            check_osdp_address(self.door_address)

    def _check_liveness(self) -> None:
        if self.liveness not in LIVENESS_MODES:
            raise InvalidInputError(
                f"The liveness check must be one of {', '.join(LIVENESS_MODES)}, got '{self.liveness}'."
            )
        if self.liveness_mode.passive and not self.liveness_models.strip():
            raise InvalidInputError(
                f"Liveness '{self.liveness}' needs the site's passive model files (a folder with the MiniFASNetV2 "
                "and MiniFASNetV1SE .pth files); FaceGuard never downloads them."
            )
        if not 0 < self.live_threshold < 1:
            raise InvalidInputError(f"The live score threshold must be between 0 and 1, got {self.live_threshold}.")
        try:
            self.challenge()
        except ValueError as error:
            raise InvalidInputError(str(error)) from None

    @property
    def liveness_mode(self) -> LivenessMode:
        return LivenessMode(self.liveness)

    def challenge(self) -> ChallengeConfig:
        return ChallengeConfig(
            timeout=self.liveness_timeout, both_ways=self.liveness_both_ways, allow_nod=self.liveness_nod
        )

    def policy(self) -> PolicyConfig:
        return PolicyConfig(k=self.k, n=self.n, cooldown=self.cooldown)

    def rate_limit(self) -> RateLimitConfig:
        """The pause for a face box refused too often; a repeat doubles it, up to 5 min or the pause itself."""
        return RateLimitConfig(
            max_denials=self.rate_limit_denials,
            pause=self.rate_limit_pause,
            max_pause=max(MAX_PAUSE, self.rate_limit_pause),
        )


def load_settings(store: Store) -> KioskSettings:
    """The stored settings; fields never saved keep their defaults. Raises InvalidInputError naming the
    database when a stored value is of the wrong type or breaks a rule (a hand-edited file)."""
    stored: dict[str, Any] = {}
    for name, kind in get_type_hints(KioskSettings).items():
        try:
            value = store.get_setting(PREFIX + name, _MISSING)
        except ValueError:  # json's JSONDecodeError or UnicodeDecodeError: a hand edit left no JSON value
            raise InvalidInputError(
                f"The kiosk settings in {store.path} are invalid: {PREFIX + name} does not hold a JSON value. "
                "Save the settings again in the admin window."
            ) from None
        if value is _MISSING:
            continue
        # a hand-edited 10 stands for 10.0 (one beyond a float's range stays an int and is refused); a bool is
        # never a number here
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and float in _types(kind)
            and abs(value) <= _FLOAT_MAX
        ):
            value = float(value)
        if not isinstance(value, _types(kind)) or (isinstance(value, bool) and bool not in _types(kind)):
            raise InvalidInputError(
                f"The kiosk settings in {store.path} are invalid: {PREFIX + name} holds "
                f"{value!r}. Save the settings again in the admin window."
            )
        stored[name] = value
    try:
        return replace(KioskSettings(), **stored)
    except InvalidInputError as error:
        raise InvalidInputError(
            f"The kiosk settings in {store.path} are invalid: {error} Save the settings again in the admin window."
        ) from None


def save_settings(store: Store, settings: KioskSettings) -> None:
    """Store every field in one transaction, so a running kiosk sees all old or all new values."""
    store.set_settings({PREFIX + name: value for name, value in asdict(settings).items()})


def site_time_zone(store: Store) -> str:
    """The site's time zone as stored (the computer's while none is), without reading the other settings."""
    zone = store.get_setting(PREFIX + "time_zone")
    return zone if isinstance(zone, str) else local_zone_name()


def _types(kind: Any) -> tuple[type, ...]:
    """The classes a field's type hint allows (``float | None`` → float, NoneType)."""
    return getattr(kind, "__args__", (kind,))


_MISSING = object()
_FLOAT_MAX = sys.float_info.max
