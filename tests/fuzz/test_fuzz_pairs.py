"""Fuzzing the LFW pairs-file parser: any file gives its pairs or an InvalidInputError naming the file and,
for a bad line, that line as an editor numbers it; every image path stays inside the image folder."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from faceguard.core.errors import InvalidInputError
from faceguard.evaluation.pairs import Pair, read_pairs

from .conftest import examples

#: A person's folder name as LFW writes them (Aaron_Eckhart, Jean-Claude_Van_Damme) and beyond: any text
#: without white space that names a folder.
NAMES = st.text(st.characters(exclude_categories=("Z", "Cc", "Cs"), exclude_characters="/\\:"), min_size=1).filter(
    lambda name: name not in (".", "..")
)
NUMBERS = st.integers(1, 10_000)
#: One line of text: anything but a line break.
LINES = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\r\n"), max_size=80)
DIGITS = st.text(st.sampled_from("0123456789"), min_size=1, max_size=5000)


@contextmanager
def pairs_file() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder, "pairs.txt")


def parsed(path: Path, root: Path) -> list[Pair] | None:
    """read_pairs's pairs, or None after checking its InvalidInputError names the file and a real line."""
    try:
        pairs = read_pairs(path, root)
    except InvalidInputError as error:
        message = str(error)
        assert message.startswith(f"{path}: ") or message.startswith(f"{path}, line "), message
        if (line := re.match(rf"{re.escape(str(path))}, line (\d+):", message)) is not None:
            assert 1 <= int(line[1]) <= len(editor_lines(path.read_bytes())), message
        return None
    for pair in pairs:
        for image in (pair.path1, pair.path2):
            assert Path(os.path.normpath(image)).is_relative_to(root), pair
    return pairs


def editor_lines(data: bytes) -> list[bytes]:
    """The file's lines as an editor numbers them: broken at \\n, \\r\\n or \\r (Python's universal newlines)."""
    return re.split(rb"\r\n|\r|\n", data)


@dataclass(frozen=True)
class ValidFile:
    """A well-formed pairs file's text, the pairs (name1, image1, name2, image2) in order, pairs per half-fold."""

    text: str
    pairs: list[tuple[str, int, str, int]]
    per_half: int


@st.composite
def valid_files(draw: st.DrawFn) -> ValidFile:
    folds, per_half = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    pairs = []
    for _ in range(folds):
        pairs += [
            (name, draw(NUMBERS), name, draw(NUMBERS))
            for name in draw(st.lists(NAMES, min_size=per_half, max_size=per_half))
        ]
        pairs += [(draw(NAMES), draw(NUMBERS), draw(NAMES), draw(NUMBERS)) for _ in range(per_half)]
    header = f"{per_half}" if folds == 1 and draw(st.booleans()) else f"{folds}\t{per_half}"
    lines = [header] + [
        f"{a}\t{i}\t{j}" if index % (2 * per_half) < per_half else f"{a}\t{i}\t{b}\t{j}"
        for index, (a, i, b, j) in enumerate(pairs)
    ]
    ending = draw(st.sampled_from(("\n", "\r\n")))
    return ValidFile(ending.join(lines) + ending, pairs, per_half)


@examples(100)
@given(st.text(max_size=400))
def test_any_text(text: str) -> None:
    with pairs_file() as path:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        parsed(path, path.parent)


@examples(100)
@given(st.binary(max_size=400))
def test_any_bytes(data: bytes) -> None:
    with pairs_file() as path:
        path.write_bytes(data)
        parsed(path, path.parent)


@examples(50)
@given(valid_files())
def test_a_well_formed_file_gives_its_pairs(file: ValidFile) -> None:
    with pairs_file() as path:
        path.write_text(file.text, encoding="utf-8", newline="")
        pairs = parsed(path, path.parent)
    root, fold = path.parent, 2 * file.per_half
    assert pairs == [
        Pair(root / a / f"{a}_{i:04d}.jpg", root / b / f"{b}_{j:04d}.jpg", index % fold < file.per_half, index // fold)
        for index, (a, i, b, j) in enumerate(file.pairs)
    ]


@examples(100)
@given(valid_files(), st.data())
def test_a_bad_line_is_named(file: ValidFile, data: st.DataObject) -> None:
    """One line replaced by other text (a number too long to read, a stray character, anything): the error
    names that line, or the header when the count of lines no longer agrees with it."""
    lines = file.text.split("\n")
    at = data.draw(st.integers(0, len(lines) - 2), label="line index")
    lines[at] = data.draw(
        st.one_of(
            LINES,
            DIGITS,
            st.builds(lambda a, b: f"{a}\t{b}", DIGITS, DIGITS),
            st.sampled_from(("\x0c", "\x85", "\u2028")),
        ),
        label="replacement",
    )
    with pairs_file() as path:
        path.write_text("\n".join(lines), encoding="utf-8", newline="")
        header = 1 + next(index for index, text in enumerate(lines) if text.strip())
        try:
            read_pairs(path, path.parent)
        except InvalidInputError as error:
            named = re.match(rf"{re.escape(str(path))}, line ({at + 1}|{header}):", str(error))
            blamed = str(error).endswith(f"does not match the header (line {header}).")  # a changed header
            assert named or blamed, (at + 1, str(error))
        else:
            parsed(path, path.parent)  # the new line happened to be a pair of the right kind


@examples(20)
@given(st.sampled_from(("..", ".", "../..", "/etc", "a/../../b", "C:", "C:\\Windows", "\\\\server\\share")), st.data())
def test_a_name_that_is_not_a_folder_name_is_refused(name: str, data: st.DataObject) -> None:
    same = data.draw(st.booleans())
    line = f"{name}\t1\t2" if same else f"Alice\t1\t{name}\t2"
    text = f"1\n{line}\nBob\t1\tCarol\t2\n" if same else f"1\nBob\t1\t2\n{line}\n"
    with pairs_file() as path:
        path.write_text(text, encoding="utf-8")
        assert parsed(path, path.parent / "lfw") is None
