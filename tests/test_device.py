"""Device choice: auto takes the best device present; an absent accelerator is refused with a reason."""

from __future__ import annotations

import os

import pytest
import torch

from faceguard.vision.device import available_devices, free_cores, select_device, set_threads


def test_auto_picks_the_best_available_device():
    available = available_devices()
    assert "cpu" in available and available <= {"cpu", "cuda", "mps"}
    best = next(kind for kind in ("cuda", "mps", "cpu") if kind in available)
    assert select_device("auto") == torch.device(best)
    assert select_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize(
    ("preference", "message"),
    [
        ("cuda", "A CUDA device was requested but none is available; use --device cpu or auto."),
        ("cuda:1", "A CUDA device was requested but none is available; use --device cpu or auto."),
        ("mps", "An MPS device was requested but none is available; use --device cpu or auto."),
    ],
)
def test_an_absent_accelerator_is_refused_with_the_reason(preference, message):
    if torch.device(preference).type in available_devices():
        pytest.skip(f"this computer has {preference}")
    with pytest.raises(ValueError) as refused:
        select_device(preference)
    assert str(refused.value) == message


def test_threads_default_to_the_cores_other_work_leaves_free(monkeypatch):
    usable = len(os.sched_getaffinity(0))
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.0, 0.0))
    assert free_cores() == usable
    monkeypatch.setattr(os, "getloadavg", lambda: (usable + 3.0, 0.0, 0.0))  # a busier machine than its cores
    assert free_cores() == 1
    before = torch.get_num_threads()
    try:
        assert set_threads(None) == 1 and torch.get_num_threads() == 1
        assert set_threads(2) == 2 and torch.get_num_threads() == 2
        with pytest.raises(ValueError, match="at least 1"):
            set_threads(0)
    finally:
        torch.set_num_threads(before)
