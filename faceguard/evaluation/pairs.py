"""Parse the official LFW pairs files.

View 1 files (``pairsDevTrain.txt``, ``pairsDevTest.txt``) start with a header ``N``: one fold of
``N`` same-person pairs followed by ``N`` different-person pairs. View 2 (``pairs.txt``) starts with
``F<TAB>N``: ``F`` folds one after another, each with its ``N`` same pairs first, then its ``N``
different pairs. A same pair line is ``Name<TAB>i<TAB>j``, a different pair ``Name1<TAB>i<TAB>Name2<TAB>j``;
image ``i`` of ``Name`` is ``ROOT/Name/Name_{i:04d}.jpg``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from faceguard.core.errors import InvalidInputError

#: The longest count or image number read (LFW's are at most four digits); Python refuses to read very long ones.
MAX_DIGITS = 9
#: Where a line ends, as editors number lines (str.splitlines also breaks at form feeds, U+2028 and the like).
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
#: A person's name is one folder inside the image folder, on every system.
_NOT_IN_NAMES = frozenset("/\\:")


@dataclass(frozen=True)
class Pair:
    """Two face images, whether they show the same person, and the 0-based fold the pair belongs to."""

    path1: Path
    path2: Path
    same: bool
    fold: int


@dataclass(frozen=True)
class _Line:
    number: int
    text: str

    @property
    def fields(self) -> list[str]:
        return self.text.split()


def read_pairs(pairs_file: str | Path, root: str | Path) -> list[Pair]:
    """Read an LFW pairs file (View 1 or View 2) into pairs of image paths under ``root``.

    ``root`` may be the image folder itself (holding ``Name/`` folders) or the folder that contains
    it as ``lfw/``: if the first person's folder is missing under ``root`` but present under
    ``root/lfw``, every path is built under ``root/lfw``. Images are not required to exist.

    Raises ``InvalidInputError`` naming the file and line for an empty, malformed or non-UTF-8 file, a header
    whose counts disagree with the number of pair lines, a pair of the wrong kind for its position, or a
    name that would lead out of the image folder.
    """
    source = Path(pairs_file)
    text = _read_text(source)
    lines = [_Line(number, line) for number, line in enumerate(_LINE_BREAK.split(text), start=1) if line.strip()]
    if not lines:
        raise InvalidInputError(f"{source}: the pairs file is empty.")
    folds, per_half = _parse_header(source, lines[0])
    body = lines[1:]
    expected = 2 * folds * per_half
    if len(body) != expected:
        raise InvalidInputError(
            f"{source}, line {lines[0].number}: the header announces {folds} fold(s) of {per_half} same "
            f"and {per_half} different pairs ({expected} pair lines), but the file has {len(body)}."
        )
    parsed = [
        _parse_pair(source, line, index % (2 * per_half) < per_half, lines[0].number) for index, line in enumerate(body)
    ]
    image_root = _image_root(Path(root), parsed[0][0])
    return [
        Pair(
            path1=_image_path(image_root, name1, number1),
            path2=_image_path(image_root, name2, number2),
            same=index % (2 * per_half) < per_half,
            fold=index // (2 * per_half),
        )
        for index, (name1, number1, name2, number2) in enumerate(parsed)
    ]


def _read_text(source: Path) -> str:
    """The file as text; a file that is not UTF-8 is an InvalidInputError naming the line and byte."""
    data = source.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line, byte = len(_LINE_BREAK.split(data[: error.start].decode("utf-8"))), data[error.start]
        raise InvalidInputError(
            f"{source}, line {line}: the pairs file is not UTF-8 text (byte {error.start + 1} is {byte:#04x})."
        ) from None


def fold_count(pairs: Sequence[Pair]) -> int:
    """Number of distinct folds among ``pairs`` (1 for View 1, 10 for View 2)."""
    return len({pair.fold for pair in pairs})


def _parse_header(source: Path, line: _Line) -> tuple[int, int]:
    """Return (folds, pairs per half-fold) from a ``N`` or ``F<TAB>N`` header."""
    fields = line.fields
    if len(fields) not in (1, 2) or not all(_is_positive_int(field) for field in fields):
        raise InvalidInputError(
            f"{source}, line {line.number}: expected a header 'N' or 'FOLDS<TAB>N' of "
            f"positive integers of at most {MAX_DIGITS} digits, got {line.text!r}."
        )
    numbers = [int(field) for field in fields]
    return (1, numbers[0]) if len(numbers) == 1 else (numbers[0], numbers[1])


def _parse_pair(source: Path, line: _Line, same: bool, header: int) -> tuple[str, int, str, int]:
    """Return (name1, image1, name2, image2) for a line expected to hold a same or different pair (by the
    header on line ``header``)."""
    fields = line.fields
    wanted, other = (3, 4) if same else (4, 3)
    kind = "same-person pair 'Name<TAB>i<TAB>j'" if same else "different-person pair 'Name1<TAB>i<TAB>Name2<TAB>j'"
    if len(fields) == other:
        raise InvalidInputError(
            f"{source}, line {line.number}: expected a {kind} at this position but found a "
            f"{'different' if same else 'same'}-person pair; the order of the lines does not match "
            f"the header (line {header})."
        )
    if len(fields) != wanted:
        raise InvalidInputError(f"{source}, line {line.number}: expected a {kind}, got {line.text!r}.")
    for field in fields[1:] if same else (fields[1], fields[3]):
        if not _is_positive_int(field):
            raise InvalidInputError(
                f"{source}, line {line.number}: image number {field!r} is not a positive integer "
                f"of at most {MAX_DIGITS} digits."
            )
    for name in fields[:1] if same else (fields[0], fields[2]):
        if name in (".", "..") or not _NOT_IN_NAMES.isdisjoint(name):
            raise InvalidInputError(
                f"{source}, line {line.number}: {name!r} is not a person's folder name; a name is not . or .. and "
                "holds no /, \\ or : (it would lead out of the image folder)."
            )
    if same:
        return fields[0], int(fields[1]), fields[0], int(fields[2])
    return fields[0], int(fields[1]), fields[2], int(fields[3])


def _is_positive_int(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS and int(text) > 0


def _image_root(root: Path, first_name: str) -> Path:
    """``root`` itself, or ``root/lfw`` when only that one holds the first person's folder."""
    if not (root / first_name).is_dir() and (root / "lfw" / first_name).is_dir():
        return root / "lfw"
    return root


def _image_path(image_root: Path, name: str, number: int) -> Path:
    return image_root / name / f"{name}_{number:04d}.jpg"
