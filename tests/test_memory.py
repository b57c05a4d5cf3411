"""Memory a finished thread freed goes back to the system when the kiosk asks (glibc's malloc_trim),
as after the watchdog replaced a stuck worker; measured in a fresh process."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

from faceguard.core.memory import limit_arenas

FREED_BY_A_THREAD = """
import json, threading
from faceguard.core.memory import return_free_memory

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024

kept = []
def worker():  # 200 MB of small allocations in this thread's own arena, one kept at the top
    data = [bytes(2000) for _ in range(100_000)]
    kept.append(data[-1])
    del data

thread = threading.Thread(target=worker)
thread.start()
thread.join()
before = rss_mb()
trimmed = return_free_memory()
print(json.dumps({"before": before, "after": rss_mb(), "trimmed": trimmed}))
"""

glibc_only = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's allocator only"
)


@glibc_only
def test_memory_freed_by_an_ended_thread_is_handed_back():
    output = subprocess.run([sys.executable, "-c", FREED_BY_A_THREAD], check=True, capture_output=True, text=True)
    figures = json.loads(output.stdout)
    assert figures["trimmed"] is True
    assert figures["before"] > 150 and figures["after"] < figures["before"] - 150, figures


@glibc_only
def test_the_arena_limit_is_accepted():
    assert limit_arenas() is True
