"""A CSV data file, read through the one bounded reader and parsed by ``datasets``."""

from __future__ import annotations

import os

from datasets import csv
from datasets.generate import Dataset, DatasetError
from engine.persist.files import FileProblem, read_text
from tui.cli import classroom


def load_csv(path: str | os.PathLike) -> Dataset:
    """The dataset in the file ``path``: at most ``datasets.csv.MAX_CSV_BYTES`` bytes of UTF-8
    text; every problem a DatasetError naming the file (and the line, when there is one).

    A served dashboard's messages never quote the file's content (``tui/cli/classroom.py``);
    a terminal's quote at most a short excerpt of a cell."""
    try:
        text = read_text(path, csv.MAX_CSV_BYTES, "a CSV data file")
    except FileProblem as err:
        raise DatasetError(str(err)) from None
    return csv.parse_csv(text, path, quote=not classroom.served())
