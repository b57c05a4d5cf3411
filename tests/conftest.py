"""Shared fixtures: the real engine (loaded once per session) and the public-domain test photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from faceguard.store.repository import Store
from faceguard.vision.image_io import read_image

DATA = Path(__file__).parent / "data"


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
