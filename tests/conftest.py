"""Shared fixtures: the real engine (loaded once per session, so once per xdist worker) and the
public-domain test photos; the gui and subprocess markers, given by where a test is and what it calls."""

from __future__ import annotations

from pathlib import Path
from types import CodeType

import numpy as np
import pytest
from argon2 import PasswordHasher

import faceguard.app.admin_password
from faceguard.cli.admin_gate import PASSWORD_ENV
from faceguard.store.keys import KEY_ENV
from faceguard.store.repository import Store
from faceguard.vision.image_io import read_image

TESTS = Path(__file__).parent
DATA = TESTS / "data"
#: The admin password every test's database gets on the first command that needs one.
ADMIN_PASSWORD = "correct horse battery"
#: Names a test calls to start another process: the subprocess module and the store's worker helpers.
PROCESS_STARTERS = frozenset({"subprocess", "start_worker", "run_worker"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/gui ``gui``, and every test that starts a process ``subprocess``."""
    for item in items:
        if "gui" in item.path.relative_to(TESTS).parts[:-1]:
            item.add_marker(pytest.mark.gui)
        function = getattr(item, "function", None)
        if function is not None and PROCESS_STARTERS & names_used(function.__code__):
            item.add_marker(pytest.mark.subprocess)


def names_used(code: CodeType) -> set[str]:
    """The global and attribute names ``code`` and the functions defined in it refer to."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            names |= names_used(constant)
    return names


@pytest.fixture(scope="session", autouse=True)
def face_data_key(tmp_path_factory):
    """One key file for every database the tests make (and the processes they start), instead of the
    user's own key folder or keyring: ``$FACEGUARD_KEY_FILE``, made on first use; the OS keyring is
    never used (keyring's own variable picks its failing backend)."""
    path = tmp_path_factory.mktemp("keys") / "test.key"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KEY_ENV, str(path))
        patch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
        yield path


@pytest.fixture(autouse=True)
def admin_password(monkeypatch):
    """Commands that change the database get ADMIN_PASSWORD from $FACEGUARD_ADMIN_PASSWORD (also in the
    processes a test starts), which becomes the password of a database that has none; in this process it is
    hashed with argon2id at its smallest cost, so a command does not spend a quarter second on it."""
    monkeypatch.setenv(PASSWORD_ENV, ADMIN_PASSWORD)
    monkeypatch.setattr(
        faceguard.app.admin_password, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    return ADMIN_PASSWORD


@pytest.fixture(scope="session")
def pipeline():
    from faceguard.vision.pipeline import FacePipeline

    return FacePipeline.load(device="cpu")


@pytest.fixture(scope="session")
def photo():
    """Read a test photo by file name (cached read-only arrays; copy before modifying)."""
    cache: dict[str, np.ndarray] = {}

    def read(name: str) -> np.ndarray:
        if name not in cache:
            cache[name] = read_image(DATA / name)
            cache[name].setflags(write=False)
        return cache[name]

    return read


@pytest.fixture
def db_path(tmp_path):
    """Where a test's database file lives."""
    return tmp_path / "faceguard.db"


@pytest.fixture
def store(db_path):
    """A fresh FaceGuard database file, open for the test."""
    with Store.open(db_path) as opened:
        yield opened
