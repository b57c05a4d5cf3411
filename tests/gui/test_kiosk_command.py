"""``faceguard kiosk`` as a newcomer runs it (``make run``): no camera → the DEMO, Ctrl-C closes it cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from faceguard.store.repository import Store


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
        deadline = time.monotonic() + 60
        events = []
        while time.monotonic() < deadline and not {"granted", "denied"} <= {e.decision for e in events}:
            time.sleep(1)
            if demo_db.exists():
                with Store.open(demo_db, create=False) as store:
                    events = store.events()
        assert {"granted", "denied"} <= {e.decision for e in events}  # the demo decides both ways
        kiosk.send_signal(signal.SIGINT)
        assert kiosk.wait(timeout=20) == 0
    finally:
        kiosk.kill()
        kiosk.wait()
    with Store.open(tmp_path / "site.db", create=False) as site:
        assert site.counts()["people"] == 0  # the demo never touches the site's own database
