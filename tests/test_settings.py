"""Kiosk settings: defaults, validation messages, and storage in a real database file."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest

from faceguard.access.liveness import ChallengeConfig, LivenessMode
from faceguard.access.rate_limit import RateLimitConfig
from faceguard.app.settings import PREFIX, KioskSettings, load_settings, save_settings
from faceguard.core.errors import InvalidInputError
from faceguard.store.repository import Store
from faceguard.vision.spec import DEFAULT_MODEL


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "faceguard.db"


def test_defaults():
    settings = KioskSettings()
    assert (settings.site_name, settings.door, settings.camera, settings.device, settings.model) == (
        "FaceGuard",
        "Main door",
        "0",
        "auto",
        DEFAULT_MODEL,
    )
    assert settings.threshold is None and settings.threads == 1 and settings.sound is True
    policy = settings.policy()
    assert (policy.k, policy.n, policy.cooldown) == (3, 5, 10.0)
    assert settings.liveness_mode is LivenessMode.ACTIVE  # a door resists a photo unless the site says otherwise
    assert settings.challenge() == ChallengeConfig()
    assert not settings.challenge().allow_nod  # turns only: a tilted photo fakes a nod more easily
    assert settings.rate_limit() == RateLimitConfig()  # 3 refusals in a minute pause a face box for 30 s
    assert KioskSettings(rate_limit_pause=600).rate_limit().max_pause == 600  # a long pause is not capped below itself


def test_a_new_database_gives_the_defaults(db_path):
    with Store.open(db_path) as store:
        assert load_settings(store) == KioskSettings()


def test_save_and_load_round_trip_through_the_file(db_path):
    settings = KioskSettings(
        site_name="Lab 4",
        door="Back door",
        camera="/srv/photos",
        device="cuda:1",
        model="small",
        threshold=0.55,
        threads=2,
        k=2,
        n=7,
        cooldown=4.5,
        sound=False,
    )
    with Store.open(db_path) as store:
        save_settings(store, settings)
    with Store.open(db_path, create=False) as store:
        loaded = load_settings(store)
        assert loaded == settings
        assert isinstance(loaded.threads, int) and isinstance(loaded.cooldown, float)
        assert set(_keys(store)) == {PREFIX + field.name for field in fields(KioskSettings)}
        save_settings(store, replace(settings, threshold=None))
    with Store.open(db_path, create=False) as store:
        assert load_settings(store).threshold is None


def test_fields_never_saved_keep_their_defaults(db_path):
    with Store.open(db_path) as store:
        store.set_settings({PREFIX + "door": "Garage", PREFIX + "k": 1, "other.key": "ignored"})
        assert load_settings(store) == replace(KioskSettings(), door="Garage", k=1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"site_name": "  "}, "The site name must not be empty."),
        ({"camera": ""}, "Choose a camera: a webcam number, a video file, a URL or a folder of images."),
        ({"device": "tpu"}, "The device must be one of auto, cpu, cuda, mps (or cuda:N), got 'tpu'."),
        ({"device": "cuda:abc"}, "The device must be one of auto, cpu, cuda, mps (or cuda:N), got 'cuda:abc'."),
        ({"threshold": 0.0}, "The threshold must be between 0 and 2, got 0.0."),
        ({"threshold": 2.5}, "The threshold must be between 0 and 2, got 2.5."),
        ({"threads": 0}, "Inference needs at least one thread, got 0."),
        ({"k": 6, "n": 5}, "k must be between 1 and n (5), got 6."),
        ({"k": 0}, "k must be between 1 and n (5), got 0."),
        ({"cooldown": 0.0}, "cooldown must be a positive number of seconds, got 0.0."),
        ({"liveness": "blink"}, "The liveness check must be one of off, passive, active, both, got 'blink'."),
        (
            {"liveness": "passive"},
            "Liveness 'passive' needs the site's passive model files (a folder with the MiniFASNetV2 and "
            "MiniFASNetV1SE .pth files); FaceGuard never downloads them.",
        ),
        ({"live_threshold": 1.0}, "The live score threshold must be between 0 and 1, got 1.0."),
        ({"liveness_timeout": 0.5}, "The challenge must last between 1 and 30 seconds, got 0.5."),
        ({"rate_limit_denials": 0}, "A face must be refused at least once before it is paused, got 0."),
        ({"rate_limit_pause": 0.0}, "The pause after too many attempts must be a positive number of seconds, got 0.0."),
    ],
)
def test_invalid_settings_are_rejected_with_their_message(changes, message):
    with pytest.raises(InvalidInputError) as raised:
        KioskSettings(**changes)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("threads", "2", "kiosk.threads holds '2'."),
        ("sound", 1, "kiosk.sound holds 1."),
        ("k", True, "kiosk.k holds True."),
        ("threshold", "0.5", "kiosk.threshold holds '0.5'."),
        ("k", 9, "k must be between 1 and n (5), got 9."),
    ],
)
def test_a_bad_stored_value_is_reported_with_the_database(db_path, key, value, message):
    with Store.open(db_path) as store:
        store.set_setting(PREFIX + key, value)
        with pytest.raises(InvalidInputError) as raised:
            load_settings(store)
    assert str(raised.value).startswith(f"The kiosk settings in {db_path} are invalid: ")
    assert message in str(raised.value)


def test_a_whole_number_stored_for_a_float_field_is_read_as_that_float(db_path):
    with Store.open(db_path) as store:
        store.set_settings({PREFIX + "cooldown": 4, PREFIX + "threshold": 1})
        loaded = load_settings(store)
    assert (loaded.cooldown, loaded.threshold) == (4.0, 1.0)
    assert isinstance(loaded.cooldown, float) and isinstance(loaded.threshold, float)


def _keys(store: Store) -> list[str]:
    return [row[0] for row in store.db.execute("SELECT key FROM settings WHERE key LIKE 'kiosk.%'").fetchall()]
