"""Choose the torch device (cuda > mps > cpu) and the CPU thread count."""

from __future__ import annotations

import os

import torch
from threadpoolctl import threadpool_limits

from faceguard.core.errors import InvalidInputError

_ACCELERATORS = {"cuda": "A CUDA device", "mps": "An MPS device"}


def available_devices() -> set[str]:
    """The device types torch can use on this computer: "cpu", and "cuda" / "mps" when present."""
    found = {"cpu"}
    if torch.cuda.is_available():
        found.add("cuda")
    if torch.backends.mps.is_available():
        found.add("mps")
    return found


def select_device(preference: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple MPS, then CPU; ``cpu``/``cuda``/``mps``/``cuda:1`` force one."""
    available = available_devices()
    if preference == "auto":
        return torch.device(next(kind for kind in ("cuda", "mps", "cpu") if kind in available))
    device = torch.device(preference)
    if device.type in _ACCELERATORS and device.type not in available:
        raise InvalidInputError(
            f"{_ACCELERATORS[device.type]} was requested but none is available; use --device cpu or auto."
        )
    return device


def free_cores() -> int:
    """The cores this process may use that other work does not keep busy: the usable cores less the
    1-minute load average, rounded, and at least one."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        busy = round(os.getloadavg()[0])
    except (AttributeError, OSError):  # no load average on this OS
        busy = 0
    return max(1, min(usable, usable - busy))


def set_threads(threads: int | None) -> int:
    """Set torch's intra-op CPU threads (``None``: :func:`free_cores`) and run numpy's BLAS on one
    thread; returns the thread count.

    A thread pool wider than the cores left free collapses: each forward waits for its slowest thread,
    and that one waits for a core (``faceguard bench`` beside two CPU-burning processes:
    docs/speed.md). OpenMP's idle threads sleep rather than spin (``faceguard/__init__.py``).
    Two thread pools that both spin-wait (torch's OpenMP and OpenBLAS) fight over the cores: on this
    2-core machine interleaving detection, encoding and gallery matching ran 3x slower (end-to-end
    p50 60 ms vs 20 ms, ``faceguard bench``). Matching is one matrix-vector product per probe and
    stays memory-bound on one thread.
    """
    if threads is not None and threads < 1:
        raise InvalidInputError("The thread count must be at least 1.")
    count = free_cores() if threads is None else threads
    torch.set_num_threads(count)
    threadpool_limits(limits=1, user_api="blas")
    return count
