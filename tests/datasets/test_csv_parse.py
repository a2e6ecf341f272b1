"""datasets.parse_csv alone: text in, a Dataset or a DatasetError naming the source and line."""

from __future__ import annotations

import pytest

from datasets import DatasetError, parse_csv


def test_parses_text_without_a_file():
    data = parse_csv("\ufeffx,y,label\n0.5,1,1\n2,-1,0\n", "made.csv")
    assert data.xs == [[0.5, 1.0], [2.0, -1.0]]
    assert data.ys == [1.0, -1.0]


def test_a_bad_cell_names_the_source_and_line():
    with pytest.raises(DatasetError, match=r"^made\.csv:3: ") as err:
        parse_csv("x,label\n1,1\noops,0\n", "made.csv")
    assert "column 1" in str(err.value)
