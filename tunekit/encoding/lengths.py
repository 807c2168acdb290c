"""The `length` column (word pieces per encoded row) that length buckets, packing and sorted evaluation read."""

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import datasets

LENGTH_COLUMN = "length"


def add_lengths(dataset) -> 'datasets.Dataset':
    """The encoded dataset with a `length` column (pieces per row), computed once and cached with the rest."""
    if LENGTH_COLUMN in dataset.column_names:
        return dataset
    return dataset.map(
        lambda batch: {LENGTH_COLUMN: [len(ids) for ids in batch["input_ids"]]},
        batched=True,
        desc="Measuring lengths",
    )


def lengths_of(dataset) -> np.ndarray:
    """Row lengths as a numpy array, read from the memory-mapped column (no Python list of the rows)."""
    return np.asarray(dataset.with_format("numpy")[LENGTH_COLUMN], dtype=np.int64)
