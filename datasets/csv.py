"""Load a dataset from CSV: numeric feature columns, the label in the last column.

Labels are ±1 or 0/1 (0 becomes -1). A first row with no number in it is a
header. Blank lines and lines starting with ``#`` are skipped. Every problem
raises :class:`DatasetError` naming the file, the line and what is wrong.
"""

from __future__ import annotations

import csv as _csv
import math
import os
from pathlib import Path

from datasets.generate import Dataset, DatasetError


def _number(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def load_csv(path: str | os.PathLike) -> Dataset:
    path = Path(path)
    try:
        if not path.exists():
            raise DatasetError(f"{path}: no such file")
        if path.is_dir():
            raise DatasetError(f"{path}: is a directory, not a CSV file")
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DatasetError(f"{path}: not a UTF-8 text file (byte {err.start})") from None
    except OSError as err:
        raise DatasetError(f"{path}: cannot read ({err.strerror})") from None
    if "\x00" in text:
        raise DatasetError(f"{path}: not a text file (contains NUL bytes)")

    rows: list[tuple[int, list[str]]] = []
    try:
        for line_no, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cells = next(_csv.reader([line]))
            rows.append((line_no, [c.strip() for c in cells]))
    except _csv.Error as err:
        raise DatasetError(f"{path}: not valid CSV ({err})") from None
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
                raise DatasetError(f"{path}:{line_no}: column {col}: not a number: {cell!r}")
            if not math.isfinite(value):
                raise DatasetError(
                    f"{path}:{line_no}: column {col}: {cell!r} is not a finite number"
                )
            values.append(value)
        xs.append(values[:-1])
        labels.append((line_no, values[-1]))

    classes = {y for _, y in labels}
    if not (classes <= {-1.0, 1.0} or classes <= {0.0, 1.0}):
        line_no, bad = _first_bad_label(labels)
        raise DatasetError(
            f"{path}:{line_no}: label {bad:g} is not binary; use +1/-1 or 1/0 in the last column"
        )
    if len(classes) < 2:
        only = next(iter(classes))
        raise DatasetError(f"{path}: every label is {only:g}; a classifier needs two classes")
    ys = [1.0 if y == 1.0 else -1.0 for _, y in labels]
    return Dataset(path.stem, xs, ys)


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
