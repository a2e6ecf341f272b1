"""Load a dataset from CSV: numeric feature columns, the label in the last column.

Labels are ±1 or 0/1 (0 becomes -1). A first row with no number in it is a
header. Blank lines and lines starting with ``#`` are skipped. Every problem
raises :class:`DatasetError` naming the file, the line and what is wrong.

A data file may hold at most ``MAX_CSV_BYTES`` bytes, ``MAX_CSV_ROWS`` data
rows and ``MAX_CSV_COLUMNS`` columns (features and the label). This module
parses text; the file is read by the one bounded reader (``engine/persist/files.py``,
through ``tui/cli/data_file.py``), in pieces, refused at the first piece over
the limit or holding binary junk, so ``/dev/zero`` or a huge log costs a
fraction of a second, not the machine's memory.
"""

from __future__ import annotations

import csv as _csv
import math
import os
from pathlib import Path

MAX_CSV_BYTES = 64 << 20  # 64 MB: a million rows of a few features, with room
MAX_CSV_ROWS = 1_000_000
MAX_CSV_COLUMNS = 1_000

from datasets.generate import Dataset, DatasetError


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


EXCERPT = 20  # the most characters of a cell a message quotes


def excerpt(cell: str) -> str:
    """A cell as a message quotes it: printable (escaped as repr does), cut at ``EXCERPT``
    characters with a visible mark."""
    return repr(cell[:EXCERPT]) + ("…(cut)" if len(cell) > EXCERPT else "")


def parse_csv(text: str, path: str | os.PathLike, quote: bool = True) -> Dataset:
    """The dataset in ``text``, the content of the file ``path`` (named in every message).

    ``quote``: whether a message may quote the file's content (a short ``excerpt`` of a
    cell, a label's value); False for a served dashboard, whose user may not read the
    server's files cell by cell.

    Reading the file is the caller's: through the one bounded reader
    (``engine/persist/files.py``), at most ``MAX_CSV_BYTES`` bytes (``tui/cli/data_file.py``).
    """
    text = text.removeprefix("\ufeff")  # a byte-order mark, as spreadsheets write

    lines = text.splitlines()
    too_many = f"{path}: more than {MAX_CSV_ROWS:,} rows, the most a data file may hold"
    # A header and that many rows at most; count the rows only when there are that many lines.
    if len(lines) > MAX_CSV_ROWS + 1 and _row_count(lines) > MAX_CSV_ROWS + 1:
        raise DatasetError(too_many)
    rows: list[tuple[int, list[str]]] = []
    try:
        for line_no, line in enumerate(lines, start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line.count(",") >= MAX_CSV_COLUMNS:
                raise DatasetError(
                    f"{path}:{line_no}: more than {MAX_CSV_COLUMNS:,} columns, "
                    "the most a data file may have"
                )
            cells = next(_csv.reader([line]))
            rows.append((line_no, [c.strip() for c in cells]))
    except _csv.Error as err:
        raise DatasetError(f"{path}: not valid CSV ({err})") from None
    if len(rows) > MAX_CSV_ROWS and all(_number(c) is not None for c in rows[0][1]):
        raise DatasetError(too_many)  # no header: every row is data
    if not rows:
        raise DatasetError(f"{path}: empty file, expected rows of features and a label")

    header: list[str] | None = None
    if all(_number(c) is None for c in rows[0][1]):
        header = rows[0][1]
        rows = rows[1:]
        if not rows:
            raise DatasetError(f"{path}: only a header, no data rows")

    width = len(header) if header is not None else len(rows[0][1])
    if width < 2:
        raise DatasetError(
            f"{path}:{rows[0][0]}: need at least one feature column and a label column, "
            f"got {width} column"
        )
    xs: list[list[float]] = []
    labels: list[tuple[int, float]] = []
    for line_no, cells in rows:
        if len(cells) != width:
            raise DatasetError(
                f"{path}:{line_no}: ragged row, expected {width} columns, got {len(cells)}"
            )
        values = []
        for col, cell in enumerate(cells, start=1):
            value = _number(cell)
            if value is None:
                shown = f": {excerpt(cell)}" if quote else ""
                raise DatasetError(f"{path}:{line_no}: column {col}: not a number{shown}")
            if not math.isfinite(value):
                shown = f"{excerpt(cell)} is" if quote else "is"
                raise DatasetError(f"{path}:{line_no}: column {col}: {shown} not a finite number")
            values.append(value)
        xs.append(values[:-1])
        labels.append((line_no, values[-1]))

    classes = {y for _, y in labels}
    if not (classes <= {-1.0, 1.0} or classes <= {0.0, 1.0}):
        line_no, bad = _first_bad_label(labels)
        shown = f"label {bad:g}" if quote else "the label"
        raise DatasetError(
            f"{path}:{line_no}: {shown} is not binary; use +1/-1 or 1/0 in the last column"
        )
    if len(classes) < 2:
        only = next(iter(classes))
        shown = f"{only:g}" if quote else "the same"
        raise DatasetError(f"{path}: every label is {shown}; a classifier needs two classes")
    ys = [1.0 if y == 1.0 else -1.0 for _, y in labels]
    return Dataset(Path(path).stem, xs, ys)


def csv_text(xs: list[list[float]] | tuple, ys: list[float] | tuple) -> str:
    """Points as the CSV ``load_csv`` reads back exactly: a header ``x1,...,label``, then
    one row per point, each number as ``repr`` writes it (the shortest that reads back
    to the same float), the label as 1 or -1."""
    if not xs or len(xs) != len(ys):
        raise DatasetError(f"need matching, non-empty points and labels ({len(xs)} vs {len(ys)})")
    width = len(xs[0])
    lines = [",".join([*(f"x{i}" for i in range(1, width + 1)), "label"])]
    for x, y in zip(xs, ys):
        lines.append(",".join([*(repr(float(v)) for v in x), "1" if y > 0 else "-1"]))
    return "\n".join(lines) + "\n"


def _row_count(lines: list[str]) -> int:
    return sum(1 for line in lines if line.strip() and not line.lstrip().startswith("#"))


def _first_bad_label(labels: list[tuple[int, float]]) -> tuple[int, float]:
    """The first label outside {-1, 0, 1}, or else the first that mixes -1 with 0."""
    for line_no, y in labels:
        if y not in (-1.0, 0.0, 1.0):
            return line_no, y
    first_seen = {}
    for line_no, y in labels:
        first_seen.setdefault(y, line_no)
    later = max((-1.0, 0.0), key=lambda y: first_seen[y])
    return first_seen[later], later
