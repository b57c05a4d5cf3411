"""Keeping a long-running process's memory from creeping up: glibc's allocator, where there is one.

glibc gives each thread that allocates an arena of its own (up to 8 per core) and keeps freed memory
for reuse instead of handing it back. A kiosk that runs for months and replaces a stuck camera or
engine worker by a fresh thread (``faceguard.gui.watchdog``) otherwise keeps the abandoned thread's
arena and the freed models' pages for good. Elsewhere (macOS, Windows, musl) both calls do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import platform

#: mallopt's parameter for the number of arenas (malloc.h).
_M_ARENA_MAX = -8
#: Arenas a kiosk needs: its threads allocate little at a time; more arenas only hold more free memory.
KIOSK_ARENAS = 2


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name) if name else None


def limit_arenas(count: int = KIOSK_ARENAS) -> bool:
    """Let the allocator keep at most ``count`` arenas for the threads started from now on; whether it could."""
    libc = _glibc()
    return bool(libc is not None and libc.mallopt(_M_ARENA_MAX, count))


def return_free_memory() -> bool:
    """Collect unreachable objects and hand the allocator's free pages back to the system; whether it could."""
    gc.collect()
    libc = _glibc()
    return bool(libc is not None and libc.malloc_trim(0))
