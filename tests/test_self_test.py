"""``faceguard self-test``: a real run passes and exits 0; a wrong identification, missing photos or
models that do not load are reported FAILED and exit non-zero."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import faceguard.cli.self_test as cli_self_test
from faceguard.app.self_test import PROBES, run_self_test
from faceguard.cli import main
from faceguard.core.errors import MissingWeightsError
from faceguard.core.paths import DEMO_PHOTOS

STEPS = ["resources", "load models", "enroll", "identify", "check database"]


def test_self_test_passes_on_the_bundled_demo_photos(capsys):
    assert main(["self-test", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"FaceGuard {faceguard_version()} self-test\n")
    for step in STEPS:
        assert f"OK      {step}" in out
    assert "FAILED" not in out and "PASSED: 5 of 5 steps OK" in out
    assert "obama2.jpg: Barack Obama" in out and "GRANTED - as expected" in out
    assert "biden.jpg: Joe Biden" in out and "DENIED (inactive) - as expected" in out
    assert "collins.png: nobody" in out and "  device     cpu" in out


def faceguard_version() -> str:
    import faceguard

    return faceguard.__version__


@pytest.fixture
def swapped_photos(tmp_path: Path) -> Path:
    """The demo photos, except that obama2.jpg shows the stranger: it must not be granted to Obama."""
    photos = tmp_path / "demo"
    shutil.copytree(DEMO_PHOTOS, photos)
    shutil.copy(DEMO_PHOTOS / "collins.png", photos / "obama2.jpg")
    return photos


def test_a_wrong_identification_fails_the_self_test_and_its_exit_code(swapped_photos, pipeline, monkeypatch, capsys):
    report = run_self_test(lambda: pipeline, swapped_photos)
    assert [(step.name, step.ok) for step in report.steps] == [(name, name != "identify") for name in STEPS]
    identify = report.steps[3]
    assert any(
        line.startswith("obama2.jpg: nobody") and "expected granted to Barack Obama" in line
        for line in identify.details
    )
    assert not report.passed and report.verdict().startswith("FAILED: 4 of 5 steps OK")

    real = run_self_test
    monkeypatch.setattr(cli_self_test, "run_self_test", lambda load, progress: real(load, swapped_photos, progress))
    assert main(["self-test", "--device", "cpu"]) == 1
    captured = capsys.readouterr()
    assert "FAILED  identify" in captured.out and "the self-test failed" in captured.err


def test_missing_demo_photos_skip_the_steps_that_need_them(tmp_path, pipeline):
    photos = tmp_path / "demo"
    shutil.copytree(DEMO_PHOTOS, photos)
    (photos / next(iter(PROBES))).unlink()
    report = run_self_test(lambda: pipeline, photos)
    assert [(step.name, step.ok) for step in report.steps] == [(name, name == "load models") for name in STEPS]
    assert "missing" in report.steps[0].details[0] and report.steps[2].details == (
        "skipped: the demo photos are missing",
    )


def test_models_that_do_not_load_fail_every_later_step():
    def load():
        raise MissingWeightsError("The model weights are not installed.")

    shown = []
    report = run_self_test(load, progress=shown.append)
    assert [(step.name, step.ok) for step in report.steps] == [(name, name == "resources") for name in STEPS]
    assert report.steps[1].details == ("The model weights are not installed.",)
    assert shown == report.steps and not report.passed
