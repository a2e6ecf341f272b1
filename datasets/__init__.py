"""Toy datasets as plain Python lists of floats, labels ±1. Never imports the engine."""

from datasets.csv import load_csv
from datasets.generate import (
    DATASETS,
    Dataset,
    DatasetError,
    blobs,
    circles,
    make,
    moons,
    spiral,
    split,
    tutorial,
    xor,
)

__all__ = [
    "DATASETS",
    "Dataset",
    "DatasetError",
    "blobs",
    "circles",
    "load_csv",
    "make",
    "moons",
    "spiral",
    "split",
    "tutorial",
    "xor",
]
