"""``faceguard kiosk`` as a newcomer runs it (``make run``): no camera → the DEMO, Ctrl-C closes it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from faceguard.store.repository import Store


@pytest.mark.slow  # the demo's slide show reaches an enrolled face after about ten seconds
def test_kiosk_without_a_camera_runs_the_demo_and_stops_on_ctrl_c(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_DATA_HOME": str(tmp_path / "data")}
    kiosk = subprocess.Popen(
        [sys.executable, "-m", "faceguard.cli", "kiosk", "--db", str(tmp_path / "site.db")],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [kiosk.stderr.readline() for _ in range(2)]
        assert lines[0].startswith("No camera at '0': starting the DEMO"), lines
        demo_db = tmp_path / "data" / "faceguard" / "demo" / "faceguard-demo.db"
        assert lines[1].startswith(f"DEMO database: {demo_db}"), lines
        events = []
        while not {"granted", "denied"} <= {e.decision for e in events}:  # the demo decides both ways
            assert kiosk.poll() is None, kiosk.stderr.read()  # still running; one that never decides times out
            time.sleep(0.2)
            if demo_db.exists():
                with Store.open(demo_db, create=False) as store:
                    events = store.events()
        kiosk.send_signal(signal.SIGINT)
        assert kiosk.wait(timeout=20) == 0
    finally:
        kiosk.kill()
        kiosk.wait()
    with Store.open(tmp_path / "site.db", create=False) as site:
        assert site.counts()["people"] == 0  # the demo never touches the site's own database
