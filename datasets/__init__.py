"""Toy datasets as plain Python lists of floats, labels ±1. Never imports the engine."""

__owner__ = "micrograd-tui"  # whose package this is (tui/shadowing.py checks it)


from datasets.csv import csv_text, parse_csv
from datasets.generate import (
    DATASETS,
    FIXED_POINTS,
    MAX_SAMPLES,
    Dataset,
    DatasetError,
    blank,
    blobs,
    circles,
    default_samples,
    features,
    make,
    moons,
    shape_problem,
    spiral,
    split,
    tutorial,
    xor,
)

__all__ = [
    "DATASETS",
    "FIXED_POINTS",
    "MAX_SAMPLES",
    "Dataset",
    "DatasetError",
    "blank",
    "blobs",
    "circles",
    "csv_text",
    "default_samples",
    "features",
    "make",
    "moons",
    "parse_csv",
    "shape_problem",
    "spiral",
    "split",
    "tutorial",
    "xor",
]
