"""Choose the torch device (cuda > mps > cpu) and the CPU thread count."""

from __future__ import annotations

import torch
from threadpoolctl import threadpool_limits


def select_device(preference: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple MPS, then CPU; ``cpu``/``cuda``/``mps``/``cuda:1`` force one."""
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(preference)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("A CUDA device was requested but none is available; use --device cpu or auto.")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("An MPS device was requested but none is available; use --device cpu or auto.")
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
