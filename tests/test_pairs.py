from __future__ import annotations

import re
from pathlib import Path

import pytest

from faceguard.core.errors import InvalidInputError
from faceguard.evaluation.pairs import Pair, fold_count, read_pairs

VIEW1 = "2\nAlice\t1\t2\nBob\t1\t3\nAlice\t1\tBob\t2\nCarol\t4\tDave\t12\n"
VIEW2 = "2\t1\nAlice\t1\t2\nAlice\t1\tBob\t2\nBob\t1\t3\nCarol\t4\tDave\t1\n"
REAL_DEV_TEST = Path("/work/shared/data/lfw-dev/pairsDevTest.txt")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pairs.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_view1_single_fold(tmp_path: Path) -> None:
    root = tmp_path / "images"
    pairs = read_pairs(write(tmp_path, VIEW1), root)
    assert pairs == [
        Pair(root / "Alice/Alice_0001.jpg", root / "Alice/Alice_0002.jpg", True, 0),
        Pair(root / "Bob/Bob_0001.jpg", root / "Bob/Bob_0003.jpg", True, 0),
        Pair(root / "Alice/Alice_0001.jpg", root / "Bob/Bob_0002.jpg", False, 0),
        Pair(root / "Carol/Carol_0004.jpg", root / "Dave/Dave_0012.jpg", False, 0),
    ]
    assert fold_count(pairs) == 1


def test_view2_folds_in_order(tmp_path: Path) -> None:
    pairs = read_pairs(write(tmp_path, VIEW2), tmp_path)
    assert [(p.same, p.fold) for p in pairs] == [(True, 0), (False, 0), (True, 1), (False, 1)]
    assert pairs[3].path2 == tmp_path / "Dave" / "Dave_0001.jpg"
    assert fold_count(pairs) == 2


def test_pair_is_frozen(tmp_path: Path) -> None:
    pair = read_pairs(write(tmp_path, VIEW1), tmp_path)[0]
    with pytest.raises(AttributeError):
        pair.same = False  # type: ignore[misc]


def test_root_containing_lfw_folder(tmp_path: Path) -> None:
    (tmp_path / "lfw" / "Alice").mkdir(parents=True)
    pairs = read_pairs(write(tmp_path, VIEW1), tmp_path)
    assert pairs[0].path1 == tmp_path / "lfw" / "Alice" / "Alice_0001.jpg"
    assert pairs[3].path2 == tmp_path / "lfw" / "Dave" / "Dave_0012.jpg"


def test_root_that_is_the_image_folder_wins(tmp_path: Path) -> None:
    (tmp_path / "Alice").mkdir()
    (tmp_path / "lfw" / "Alice").mkdir(parents=True)
    assert read_pairs(write(tmp_path, VIEW1), tmp_path)[0].path1 == tmp_path / "Alice" / "Alice_0001.jpg"


def test_blank_lines_are_ignored(tmp_path: Path) -> None:
    assert len(read_pairs(write(tmp_path, "\n" + VIEW1.replace("\n", "\n\n")), tmp_path)) == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("two\nAlice\t1\t2\n", r"line 1: expected a header"),
        ("1\t2\t3\nAlice\t1\t2\n", r"line 1: expected a header"),
        ("0\n", r"line 1: expected a header"),
        ("3\n" + VIEW1.split("\n", 1)[1], r"line 1: the header announces 1 fold\(s\) of 3 .*6 pair lines.*has 4"),
        ("2\t2\n" + VIEW2.split("\n", 1)[1], r"announces 2 fold\(s\) of 2 .*8 pair lines.*has 4"),
        (
            "1\nAlice\t1\tBob\t2\nAlice\t1\t2\n",
            r"line 2: expected a same-person pair .*order of the lines does not match the header \(line 1\)",
        ),
        (
            "2\nAlice\t1\t2\nAlice\t1\tBob\t2\nBob\t1\t3\nCarol\t4\tDave\t1\n",
            r"line 3: expected a same-person pair .*order of the lines does not match the header \(line 1\)",
        ),
        (
            "1\nAlice\t1\t2\nBob\t1\t3\n",
            r"line 3: expected a different-person pair .*order of the lines does not match the header \(line 1\)",
        ),
        (  # a View 2 header '2<TAB>1' changed to '2' (found by the fuzz run): read as View 1, the kinds disagree
            "2\nAlice\t1\t1\nAlice\t1\tBob\t1\nAlice\t1\t1\nAlice\t1\tBob\t1\n",
            r"line 3: expected a same-person pair .*does not match the header \(line 1\)\.$",
        ),
        ("1\nAlice\t1\t2\t3\t4\nBob\t1\tCarol\t3\n", r"line 2: expected a same-person pair 'Name<TAB>i<TAB>j', got"),
        ("1\nAlice\t1\tx\nBob\t1\tCarol\t3\n", r"line 2: image number 'x' is not a positive integer"),
        ("1\nAlice\t1\t2\nBob\t0\tCarol\t3\n", r"line 3: image number '0' is not a positive integer"),
        (
            "1\nAlice\t1\t" + "7" * 5000 + "\nBob\t1\tCarol\t3\n",
            r"line 2: image number '7+' is not a positive integer of at",
        ),
        ("1\nAlice\x0c1\u20282\nBob\t0\tCarol\t3\n", r"line 3: image number '0'"),  # white space, not line breaks
        ("1\r\nAlice\t1\t2\rBob\t0\tCarol\t3\n", r"line 3: image number '0'"),
        (
            "1" * 5000 + "\nAlice\t1\t2\n",
            r"line 1: expected a header 'N' or 'FOLDS<TAB>N' of positive integers of at most 9",
        ),
    ],
)
def test_malformed_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_pairs(write(tmp_path, text), tmp_path)


@pytest.mark.parametrize("name", ["..", ".", "../../etc", "/etc", "C:", "C:\\Windows", "\\\\server\\share"])
def test_a_name_that_is_not_a_folder_in_the_image_folder_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidInputError, match=rf"line 3: {re.escape(repr(name))} is not a person's folder name"):
        read_pairs(write(tmp_path, f"1\nAlice\t1\t2\nBob\t1\t{name}\t2\n"), tmp_path)


def test_a_file_that_is_not_utf8_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "pairs.txt"
    path.write_bytes("1\nAlice\t1\t2\nJos\u00e9\t1\tCarol\t3\n".encode("latin-1"))
    with pytest.raises(
        InvalidInputError, match=r"pairs.txt, line 3: the pairs file is not UTF-8 text \(byte 16 is 0xe9\)"
    ):
        read_pairs(path, tmp_path)


@pytest.mark.skipif(not REAL_DEV_TEST.exists(), reason="LFW dev pairs not available")
def test_real_lfw_dev_test_file() -> None:
    pairs = read_pairs(REAL_DEV_TEST, REAL_DEV_TEST.parent)
    assert sum(p.same for p in pairs) == 500
    assert sum(not p.same for p in pairs) == 500
    assert fold_count(pairs) == 1
    if (REAL_DEV_TEST.parent / "lfw").is_dir():
        assert pairs[0].path1.is_file()
