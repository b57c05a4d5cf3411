"""``faceguard bench-liveness`` end to end on the public-domain photos: one sequence of each kind, few frames."""

from __future__ import annotations

import json

import pytest

from faceguard.cli import main
from faceguard.vision.camera import open_source

from .conftest import DATA

ATTACKS = {"print-plane", "screen-moire-glare"}


def test_bench_liveness_writes_the_figures_the_plot_and_the_videos(tmp_path, capsys):
    out, plot, videos = tmp_path / "liveness.json", tmp_path / "curve.png", tmp_path / "videos"
    arguments = ["--images", str(DATA), "--sequences", "1", "--fps", "4", "--json", str(out), "--plot", str(plot)]
    assert main(["bench-liveness", *arguments, "--video-dir", str(videos)]) == 0

    figures = json.loads(out.read_text())
    active = figures["active"]
    assert set(active["apcer"]) == ATTACKS and all(isinstance(rate, float) for rate in active["apcer"].values())
    assert isinstance(active["bpcer"], float)
    assert active["bona_fide_presentations"] == 1 and set(active["attack_presentations"].values()) == {1}
    assert "--models" in figures["passive"]["skipped"] and "skipped" in figures["both"]
    curve = figures["turn_curve"]
    assert curve["configured_turn"] == figures["challenge"]["turn"] == 0.18
    assert len(curve["configured"]["bpcer"]) == len(curve["turn"]) and curve["turn"][0] == 0.05
    assert figures["data"]["bona_fide_pairs"]["distinct"] == 1  # obama3 and obama2; coffee and cat have no face
    assert figures["data"]["sequences"] == {"print-plane": 1, "screen-moire-glare": 1, "multi-pose": 1}
    assert figures["command"].startswith(f"faceguard bench-liveness --images {DATA} --sequences 1 --seed 0 --fps 4")
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert "active   APCER print-plane" in capsys.readouterr().out

    written = sorted(videos.iterdir())
    kinds = [path.name.split("-turn-")[0] for path in written]
    assert kinds == ["multi-pose-1", "print-plane-1", "screen-moire-glare-1"]
    camera = open_source(str(written[0]))  # a sequence plays as the kiosk's camera
    try:
        assert camera.read().shape == (480, 640, 3)
    finally:
        camera.close()


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        (["--sequences", "0"], 2, "--sequences must be at least 1"),
        (["--images", "no-such-folder"], 1, "no-such-folder does not exist"),
        (["--images", str(DATA), "--models", "no-such-models"], 3, "'no-such-models' does not exist"),
    ],
)
def test_bench_liveness_explains_bad_options(arguments, code, message, capsys):
    assert main(["bench-liveness", *arguments]) == code
    assert message in capsys.readouterr().err
