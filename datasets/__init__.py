"""Toy datasets as plain Python lists of floats, labels ±1. Never imports the engine."""

from datasets.csv import csv_text, parse_csv
from datasets.generate import (
    DATASETS,
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
    spiral,
    split,
    tutorial,
    xor,
)

__all__ = [
    "DATASETS",
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
    "spiral",
    "split",
    "tutorial",
    "xor",
]
