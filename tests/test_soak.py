"""The soak benchmark for about 20 s: the real kiosk, engine and database through every injected fault once
(camera unplugged and stuck, engine exception and stuck, database locked, disk full, database file
moved away), with no crash and no access decision lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
FAULTS = {
    "camera unplugged",
    "camera stuck",
    "engine exception",
    "engine stuck",
    "database locked",
    "disk full",
    "database file missing",
}


@pytest.mark.slow
def test_kiosk_survives_each_fault_without_losing_a_decision(tmp_path):
    out = tmp_path / "soak.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "soak_kiosk.py"), "--minutes", "0.35", "--json", str(out)]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=110)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]

    figures = json.loads(out.read_text())
    assert {fault["fault"] for fault in figures["faults"]} == FAULTS
    assert figures["crashes"] == 0, figures["crash_details"]
    assert figures["decisions_made"] > 0
    assert figures["decisions_logged"] == figures["decisions_made"]
    assert figures["events_unwritten_at_end"] == figures["events_dropped_unwritten"] == 0
    # the stuck camera restarted by the watchdog; the engine after its exception and when stuck
    assert figures["restarts"]["Camera"] >= 1 and figures["restarts"]["Recognition"] >= 2
    assert figures["recognition_failures"]["Injected fault: the engine failed unexpectedly"] == 2
    assert figures["frames_processed"] > 0
