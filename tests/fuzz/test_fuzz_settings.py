"""Fuzzing the kiosk settings: any value of a field's type, any door address, and anything a hand-edited
database holds gives valid settings or an InvalidInputError that says what is wrong, never a bare ValueError,
OverflowError, TypeError or the like; valid settings come back from the database file as they were saved."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import fields
from typing import Any, get_type_hints

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from faceguard.app.settings import (
    DOOR_DRIVERS,
    LIVENESS_MODES,
    POLARITIES,
    PREFIX,
    KioskSettings,
    load_settings,
    save_settings,
)
from faceguard.core.errors import InvalidInputError
from faceguard.store.repository import Store

from .conftest import examples

HINTS = get_type_hints(KioskSettings)
NAMES = [field.name for field in fields(KioskSettings)]
#: A float field's values: any float, and the whole numbers a float holds exactly (10 for 10.0).
NUMBERS = st.one_of(st.floats(), st.integers(-(2**53), 2**53), st.integers(-30, 30))
#: Text near what the door drivers and the device accept, so their checks are reached past the first test.
ADDRESSES = st.one_of(
    st.text(),
    st.builds("{}://{}".format, st.sampled_from(("http", "https", "mqtt", "ftp", "")), st.text()),
    st.builds("http://[{}]/{{state}}".format, st.text()),
    st.builds("mqtt://{}:{}/{}".format, st.text(), st.text(st.sampled_from("0123456789x")), st.text()),
    st.builds("{}@{}:{}".format, st.text(), st.text(st.sampled_from("0123456789")), st.text("0123456789")),
    st.builds("GPIO{}".format, st.text(st.sampled_from("0123456789"), min_size=1, max_size=5000)),
)
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "device": st.one_of(st.text(), st.builds("{}:{}".format, st.sampled_from(("cpu", "cuda", "mps")), st.text())),
    "door_driver": st.one_of(st.sampled_from(DOOR_DRIVERS), st.text()),
    "door_address": ADDRESSES,
    "door_polarity": st.one_of(st.sampled_from(POLARITIES), st.text()),
    "liveness": st.one_of(st.sampled_from(LIVENESS_MODES), st.text()),
}
BY_TYPE: dict[Any, st.SearchStrategy[Any]] = {
    str: st.text(),
    float: NUMBERS,
    int: st.integers(),
    bool: st.booleans(),
    float | None: st.one_of(st.none(), NUMBERS),
}

#: Whatever JSON a hand-edited settings table may hold, numbers beyond a float's range among them.
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), st.integers(10**308, 10**400), st.text()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6,
)


def typed_values() -> st.SearchStrategy[dict[str, Any]]:
    """Some of the fields, each with any value of its declared type."""
    return st.fixed_dictionaries({}, optional={name: FIELD_VALUES.get(name, BY_TYPE[HINTS[name]]) for name in NAMES})


def inside(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, exclude_min=True, exclude_max=True)


@st.composite
def valid_values(draw: st.DrawFn) -> dict[str, Any]:
    """Every field with a value its rules allow (any text, the extremes of each range)."""
    n = draw(st.integers(1, 50))
    driver, address = draw(
        st.sampled_from((("none", ""), ("serial", "/dev/ttyUSB0"), ("gpio", "GPIO17"), ("osdp", "COM4@1:115200")))
    )
    return {
        "site_name": draw(st.text(min_size=1).filter(str.strip)),
        "door": draw(st.text()),
        "camera": draw(st.text(min_size=1).filter(str.strip)),
        "device": draw(st.sampled_from(("auto", "cpu", "cuda", "cuda:1", "mps:0"))),
        "model": draw(st.text()),
        "threshold": draw(st.none() | inside(0, 2)),
        "max_fpir": draw(inside(0, 1)),
        "threads": draw(st.integers(1, 2**31)),
        "k": draw(st.integers(1, n)),
        "n": n,
        "cooldown": draw(st.floats(min_value=0, exclude_min=True, allow_infinity=False)),
        "sound": draw(st.booleans()),
        "door_driver": driver,
        "door_address": address,
        "door_pulse": draw(st.floats(1, 30)),
        "door_polarity": draw(st.sampled_from(POLARITIES)),
        "liveness": draw(st.sampled_from(LIVENESS_MODES)),
        "liveness_timeout": draw(st.floats(1, 30)),
        "liveness_both_ways": draw(st.booleans()),
        "liveness_nod": draw(st.booleans()),
        "liveness_models": draw(st.text(min_size=1).filter(str.strip)),
        "live_threshold": draw(inside(0, 1)),
    }


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with Store.open(tmp_path_factory.mktemp("settings") / "faceguard.db") as opened:
        yield opened


def stored(store: Store, values: dict[str, str | bytes]) -> None:
    """Replace the kiosk settings in the database file by these values, as a hand edit would."""
    with sqlite3.connect(store.path) as db:
        db.execute("DELETE FROM settings WHERE key LIKE ?", [PREFIX + "%"])
        db.executemany("INSERT INTO settings (key, value) VALUES (?, ?)", [(PREFIX + k, v) for k, v in values.items()])
    db.close()


def refused_with_a_message(error: InvalidInputError) -> None:
    message = str(error)
    assert message.endswith(".") and len(message) > 20, message


@examples(150)
@given(typed_values())
def test_any_value_of_each_fields_type(values: dict[str, Any]) -> None:
    try:
        KioskSettings(**values)
    except InvalidInputError as error:
        refused_with_a_message(error)


@examples(100)
@given(st.sampled_from(DOOR_DRIVERS), ADDRESSES)
# found by fuzzing: urllib's ValueError for a bracket or an NFKC-changed host, int()'s for 5000 digits
@example("http", "http://[fe80::1/{state}")
@example("shelly", "http://relay\uff03")
@example("mqtt", "mqtt://[broker/door")
@example("gpio", "GPIO" + "1" * 5000)
@example("osdp", "COM4@1:" + "9" * 5000)
def test_any_door_address(driver: str, address: str) -> None:
    try:
        KioskSettings(door_driver=driver, door_address=address)
    except InvalidInputError as error:
        refused_with_a_message(error)


@examples(60)
@given(valid_values())
def test_valid_settings_come_back_from_the_file_as_saved(store: Store, values: dict[str, Any]) -> None:
    settings = KioskSettings(**values)
    save_settings(store, settings)
    assert load_settings(store) == settings


@examples(150)
@given(st.dictionaries(st.sampled_from(NAMES), JSON, max_size=4))
@example({"cooldown": 10**400})  # found by fuzzing: an OverflowError that stopped a running kiosk
def test_any_json_in_the_database(store: Store, values: dict[str, Any]) -> None:
    stored(store, {name: json.dumps(value) for name, value in values.items()})
    try:
        load_settings(store)
    except InvalidInputError as error:
        refused_with_a_message(error)
        assert str(error).startswith(f"The kiosk settings in {store.path} are invalid: "), error


@examples(60)
@given(
    st.sampled_from(NAMES),
    st.one_of(st.text(max_size=20), st.binary(max_size=20)).filter(lambda raw: not _is_json(raw)),
)
@example("cooldown", "ten")  # found by fuzzing: json's JSONDecodeError came out of load_settings
def test_what_is_not_json_in_the_database(store: Store, name: str, raw: str | bytes) -> None:
    stored(store, {name: raw})
    with pytest.raises(InvalidInputError, match=rf"^The kiosk settings in {store.path} are invalid: ") as error:
        load_settings(store)
    refused_with_a_message(error.value)


def _is_json(raw: str | bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True
