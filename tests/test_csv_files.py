"""The CSV loader (the bounded reader of engine/persist/files.py, then datasets.parse_csv):
good files load; every bad one is a DatasetError naming the file and, where there is one,
the line; no other exception ever escapes."""

from __future__ import annotations

import contextlib
import os
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datasets import Dataset, DatasetError
from datasets import csv as csv_module
from engine.persist import files
from tui.cli.data_file import load_csv


def write(tmp_path, text: str | bytes, name: str = "data.csv"):
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


# -- good files ------------------------------------------------------------------------


def test_file_without_header(tmp_path):
    data = load_csv(write(tmp_path, "1.5,2,1\n-3,4e-1,-1\n"))
    assert data.xs == [[1.5, 2.0], [-3.0, 0.4]]
    assert data.ys == [1.0, -1.0]
    assert data.name == "data"


def test_file_with_header(tmp_path):
    data = load_csv(write(tmp_path, "x, y, label\n0.5, 1, 1\n2, -1, -1\n3, 3, 1\n"))
    assert data.xs == [[0.5, 1.0], [2.0, -1.0], [3.0, 3.0]]
    assert data.ys == [1.0, -1.0, 1.0]


def test_zero_one_labels_become_minus_one_plus_one(tmp_path):
    data = load_csv(write(tmp_path, "a,b,c,y\n1,2,3,0\n4,5,6,1\n7,8,9,0\n"))
    assert data.ys == [-1.0, 1.0, -1.0]
    assert data.features == 3


def test_crlf_bom_blank_lines_and_comments(tmp_path):
    text = "\ufeff# made by hand\r\nx,label\r\n\r\n1,1\r\n  \r\n# a comment\r\n2,-1\r\n"
    data = load_csv(write(tmp_path, text))
    assert data.xs == [[1.0], [2.0]]
    assert data.ys == [1.0, -1.0]


def test_quoted_cells(tmp_path):
    data = load_csv(write(tmp_path, '"x","y"\n"1.5","1"\n"2","0"\n'))
    assert data.xs == [[1.5], [2.0]] and data.ys == [1.0, -1.0]


# -- every error names the file, and the line where there is one -------------------------

BAD_FILES = {
    # name: (contents, the line named, words the message must hold)
    "empty file": ("", None, ["empty"]),
    "only blank lines": ("\n  \n\n", None, ["empty"]),
    "header only": ("x,y,label\n", None, ["header"]),
    "ragged row": ("x,y,label\n1,2,1\n3,4\n5,6,1\n", 3, ["ragged", "3 columns", "got 2"]),
    "non-numeric cell": ("1,2,1\n3,abc,-1\n", 2, ["abc", "column 2"]),
    "NaN cell": ("1,2,1\n3,nan,-1\n", 2, ["nan", "finite"]),
    "inf cell": ("1,2,1\n3,4,-1\n-inf,1,1\n", 3, ["-inf", "finite"]),
    "non-binary label": ("1,2,1\n3,4,-1\n5,6,2\n", 3, ["label 2", "binary"]),
    "label mixing -1 and 0": ("1,2,1\n3,4,-1\n5,6,0\n", 3, ["label 0", "binary"]),
    "a single class": ("1,2,1\n3,4,1\n", None, ["two classes"]),
    "one column": ("1\n-1\n", 1, ["feature", "label"]),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_error_names_file_and_line(tmp_path, case):
    text, line, words = BAD_FILES[case]
    path = write(tmp_path, text)
    with pytest.raises(DatasetError) as err:
        load_csv(path)
    message = str(err.value)
    assert message.startswith(str(path))
    if line is not None:
        assert message.startswith(f"{path}:{line}:")
    for word in words:
        assert word in message


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(DatasetError, match="no such file") as err:
        load_csv(path)
    assert str(path) in str(err.value)


def test_directory(tmp_path):
    with pytest.raises(DatasetError, match="directory") as err:
        load_csv(tmp_path)
    assert str(tmp_path) in str(err.value)


def test_non_utf8_bytes(tmp_path):
    path = write(tmp_path, b"x,label\n1,1\n\xff\xfe,0\n")
    with pytest.raises(DatasetError, match="UTF-8") as err:
        load_csv(path)
    assert str(path) in str(err.value)


def test_binary_file_with_nul_bytes(tmp_path):
    path = write(tmp_path, b"1,1\x00\n2,-1\n")
    with pytest.raises(DatasetError) as err:
        load_csv(path)
    assert str(path) in str(err.value)


def test_file_name_too_long_for_the_file_system(tmp_path):
    path = tmp_path / ("x" * 300 + ".csv")
    with pytest.raises(DatasetError) as err:
        load_csv(path)
    assert str(path) in str(err.value)


# -- fuzz: a Dataset or a DatasetError, never anything else -------------------------------

# tmp_path is shared by a test's examples: each example overwrites the one file.
FUZZ = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


def _load_or_error(path):
    try:
        data = load_csv(path)
    except DatasetError as err:
        assert str(path) in str(err)
        return None
    assert isinstance(data, Dataset)
    assert data.xs and len(data.xs) == len(data.ys)
    assert set(data.ys) == {-1.0, 1.0}
    return data


@settings(max_examples=200, **FUZZ)
@given(raw=st.binary(max_size=300))
def test_random_bytes_load_or_raise_dataset_error(tmp_path, raw):
    _load_or_error(write(tmp_path, raw))


# Rows of cells that are mostly plausible, so examples reach every check and
# some files load: numbers, labels, header words, junk.
cells = st.one_of(
    st.sampled_from(["1", "-1", "0", " 1", "1.0"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-5, 5).map(str),
    st.sampled_from(["x", "label", '"2"', "", "1e400", "abc", "nan", "-inf", "#", "é"]),
)
labels = st.sampled_from(["1", "-1", "0", "1.0", "2"])


@st.composite
def csv_ish(draw):
    """A file of rows, mostly of one width with a label last, sometimes not."""
    width = draw(st.integers(1, 4))
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        n = width if draw(st.integers(0, 9)) else draw(st.integers(1, 5))
        row = draw(st.lists(cells, min_size=n - 1, max_size=n - 1)) + [draw(labels)]
        lines.append(",".join(row))
    if draw(st.booleans()):
        lines.insert(0, ",".join(["x"] * width))
    return draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)


@settings(max_examples=300, **FUZZ)
@given(text=csv_ish())
def test_random_csv_like_text_loads_or_raises_dataset_error(tmp_path, text):
    _load_or_error(write(tmp_path, text))


# -- the caps: rows, columns, bytes (datasets/csv.py's MAX_CSV_*) ---------------------------


def test_rows_up_to_the_cap_load_and_one_more_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_module, "MAX_CSV_ROWS", 5)
    # A header, blank lines and comments do not count as rows.
    text = "x,label\n\n# a comment\n" + "0.5,1\n-0.5,0\n" * 2 + "1,1\n"
    assert len(load_csv(write(tmp_path, text)).xs) == 5
    for extra in ("2,0\n", "# more\n\n2,0\n"):
        path = write(tmp_path, text + extra)
        with pytest.raises(DatasetError, match=r"more than 5 rows, the most a data file may hold"):
            load_csv(path)
    no_header = "0.5,1\n-0.5,0\n" * 3  # 6 rows, all data
    with pytest.raises(DatasetError, match="more than 5 rows"):
        load_csv(write(tmp_path, no_header))


def test_columns_up_to_the_cap_load_and_one_more_is_refused(tmp_path):
    width = csv_module.MAX_CSV_COLUMNS
    row = ",".join(["0.5"] * (width - 1))
    data = load_csv(write(tmp_path, f"{row},1\n{row},0\n"))
    assert len(data.xs[0]) == width - 1
    path = write(tmp_path, f"{row},0.5,1\n")
    with pytest.raises(DatasetError, match=f":1: more than {width:,} columns"):
        load_csv(path)


def test_bytes_over_the_cap_are_refused_in_pieces(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_module, "MAX_CSV_BYTES", 1000)
    monkeypatch.setattr(files, "READ_PIECE", 64)
    assert len(load_csv(write(tmp_path, "0.5,1\n-0.5,0\n" * 76)).xs) == 152  # 988 bytes
    with pytest.raises(DatasetError, match="larger than"):
        load_csv(write(tmp_path, "0.5,1\n-0.5,0\n" * 77))  # 1001 bytes
    fifo = tmp_path / "fifo"  # no size to look at: refused while reading
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(b"0.5,1\n" * 400))
    writer.start()
    with pytest.raises(DatasetError, match="larger than"):
        load_csv(fifo)
    with contextlib.suppress(OSError):
        writer.join()
