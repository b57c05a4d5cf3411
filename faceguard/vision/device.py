"""Choose the torch device (cuda > mps > cpu) and the CPU thread count."""

from __future__ import annotations

import torch
from threadpoolctl import threadpool_limits


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
        raise ValueError(f"{_ACCELERATORS[device.type]} was requested but none is available; "
                         "use --device cpu or auto.")
    return device


def set_threads(threads: int | None) -> None:
    """Limit torch's intra-op CPU threads (``None`` keeps torch's default, one per core) and run
    numpy's BLAS on one thread.

    Two thread pools that both spin-wait (torch's OpenMP and OpenBLAS) fight over the cores: on this
    2-core machine interleaving detection, encoding and gallery matching ran 3x slower (end-to-end
    p50 60 ms vs 20 ms, ``faceguard bench``). Matching is one matrix-vector product per probe and
    stays memory-bound on one thread.
    """
    if threads is not None:
        if threads < 1:
            raise ValueError("The thread count must be at least 1.")
        torch.set_num_threads(threads)
    threadpool_limits(limits=1, user_api="blas")
