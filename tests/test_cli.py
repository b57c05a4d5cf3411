"""The faceguard command end to end on the public-domain photos (small LFW-format tree built here)."""

import json
import shutil

import pytest
from PIL import Image

from faceguard.cli import main
from faceguard.vision.spec import DEFAULT_MODEL, get_model_spec

from .conftest import DATA


@pytest.fixture
def lfw_like(tmp_path):
    """Name/Name_NNNN.jpg tree plus a View-1 pairs file (2 same + 2 different pairs)."""
    root = tmp_path / "lfw"
    for name, files in {
        "Obama": ["obama.jpg", "obama2.jpg", "obama3.jpg"],
        "Biden": ["biden.jpg"],
        "Collins": ["collins.png"],
        "Coffee": ["coffee.jpg"],
    }.items():
        (root / name).mkdir(parents=True)
        for number, file in enumerate(files, start=1):
            Image.open(DATA / file).convert("RGB").save(root / name / f"{name}_{number:04d}.jpg")
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("2\nObama\t1\t2\nObama\t1\t3\nObama\t1\tBiden\t1\nObama\t2\tCollins\t1\n")
    return tmp_path, pairs


def test_evaluate_writes_the_documented_json_and_plot(lfw_like, capsys):
    root, pairs = lfw_like
    out, plot = root / "report.json", root / "roc.png"
    assert (
        main(
            [
                "evaluate",
                "--pairs",
                str(pairs),
                "--root",
                str(root),
                "--json",
                str(out),
                "--plot",
                str(plot),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    report = json.loads(out.read_text())
    assert {
        "accuracy",
        "accuracy_std",
        "auc",
        "eer",
        "tar_at_far_1e-3",
        "threshold",
        "pairs",
        "images",
        "no_face",
    } <= report.keys()
    assert report["accuracy"] == 1.0 and report["pairs"] == 4 and report["images"] == 5
    assert report["no_face"] == 0 and plot.read_bytes()[:4] == b"\x89PNG"


def test_evaluate_counts_no_face_images_and_scores_their_pairs_as_different(lfw_like):
    root, pairs = lfw_like
    pairs.write_text("1\nObama\t1\t2\nObama\t1\tCoffee\t1\n")
    out = root / "report.json"
    assert main(["evaluate", "--pairs", str(pairs), "--root", str(root), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["no_face"] == 1 and report["accuracy"] == 1.0


def test_evaluate_reports_a_malformed_pairs_file(lfw_like, capsys):
    root, pairs = lfw_like
    pairs.write_text("3\nObama\t1\t2\n")
    assert main(["evaluate", "--pairs", str(pairs), "--root", str(root)]) == 2
    assert "pairs.txt" in capsys.readouterr().err


def test_evaluate_open_set_writes_the_figures_and_the_det_plot(lfw_like):
    root, pairs = lfw_like  # Obama enrolled from photo 1, probed with photo 2; Biden, Collins, Coffee strangers
    out, plot = root / "open-set.json", root / "det.png"
    assert (
        main(["evaluate", "--open-set", str(root / "lfw"), "--json", str(out), "--plot", str(plot), "--threads", "1"])
        == 0
    )
    report = json.loads(out.read_text())
    assert report["model"] == get_model_spec(DEFAULT_MODEL).id and report["enrolled"] == 1 and report["fte"] == 0.0
    assert report["mated_probes"] == 1 and report["nonmated_probes"] == 3 and report["rank1"] == 1.0
    assert {"0.01", "0.001"} == report["fnir_at_fpir"].keys()
    assert report["site_threshold"]["max_fpir"] == 0.001 and report["site_threshold"]["threshold"] > 0
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_evaluate_open_set_on_the_people_of_a_pairs_file(lfw_like):
    root, pairs = lfw_like
    out = root / "open-set.json"
    assert (
        main(
            [
                "evaluate",
                "--open-set",
                str(root / "lfw"),
                "--people-from",
                str(pairs),
                "--max-fpir",
                "0.01",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    report = json.loads(out.read_text())
    assert report["nonmated_probes"] == 2 and report["site_threshold"]["max_fpir"] == 0.01  # Coffee is not named


@pytest.mark.parametrize(
    "arguments",
    [
        ["--pairs", "pairs.txt"],
        ["--open-set", "lfw", "--calibrate", "pairs.txt"],
        ["--pairs", "pairs.txt", "--root", ".", "--people-from", "pairs.txt"],
        ["--open-set", "lfw", "--max-fpir", "1"],
    ],
)
def test_evaluate_refuses_options_of_the_other_mode(arguments, capsys):
    assert main(["evaluate", *arguments]) == 2
    assert "--" in capsys.readouterr().err


def test_compare_exit_codes(capsys):
    assert main(["compare", str(DATA / "obama.jpg"), str(DATA / "obama2.jpg")]) == 0
    assert "SAME PERSON" in capsys.readouterr().out
    assert main(["compare", str(DATA / "obama.jpg"), str(DATA / "biden.jpg")]) == 1
    assert "DIFFERENT PEOPLE" in capsys.readouterr().out


def test_compare_explains_bad_photos(tmp_path, capsys):
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert main(["compare", str(DATA / "obama.jpg"), str(tmp_path / "empty.jpg")]) == 4
    assert "empty" in capsys.readouterr().err
    assert main(["compare", str(DATA / "obama.jpg"), str(DATA / "coffee.jpg")]) == 5
    assert "No face" in capsys.readouterr().err


def test_demo_grants_the_enrolled_person_and_denies_strangers(capsys):
    assert main(["demo"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert "GRANTED" in lines["obama2.jpg"] and "GRANTED" in lines["obama3.jpg"]
    assert "DENIED" in lines["biden.jpg"] and "DENIED" in lines["collins.png"]


@pytest.mark.slow  # it times identification in a gallery of a million random templates
def test_bench_reports_every_stage(tmp_path):
    images = tmp_path / "images"
    shutil.copytree(DATA, images, ignore=shutil.ignore_patterns("*.md"))
    out = tmp_path / "bench.json"
    assert main(["bench", "--images", str(images), "--limit", "4", "--threads", "1", "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert set(figures["stages_ms"]) >= {
        "decode",
        "detect",
        "align",
        "encode",
        "identify_10k",
        "identify_1000k",
        "end_to_end",
    }
    assert figures["end_to_end_ms_p50"] > 0 and figures["images"] == 4
