"""Batch order that wastes little on padding: length-bucketed training batches and length-sorted evaluation."""

import numpy as np
import torch
from torch.utils.data import Sampler

LENGTH_COLUMN = "length"
BUCKET_BATCHES = 50  # batches per bucket: enough to find similar lengths, few enough to stay well shuffled


def add_lengths(dataset):
    """The encoded dataset with a `length` column (pieces per row), computed once and cached with the rest."""
    if LENGTH_COLUMN in dataset.column_names:
        return dataset
    return dataset.map(
        lambda batch: {LENGTH_COLUMN: [len(ids) for ids in batch["input_ids"]]},
        batched=True,
        desc="Measuring lengths",
    )


def lengths_of(dataset):
    """Row lengths as a numpy array, read from the memory-mapped column (no Python list of the rows)."""
    return np.asarray(dataset.with_format("numpy")[LENGTH_COLUMN], dtype=np.int64)


def bucketed_order(lengths, batch_size, generator, bucket_batches=BUCKET_BATCHES):
    """Indices such that every run of batch_size consecutive ones has similar lengths.

    A random permutation is cut into buckets of bucket_batches batches, each bucket is sorted by length and
    cut into batches, and the batches of the whole epoch are shuffled, so consecutive batches (and the mix
    of short and long ones) stay random. The batch holding the longest row comes first, so a run that does
    not fit in memory fails at once; the one incomplete batch, if any, comes last.
    """
    permutation = torch.randperm(len(lengths), generator=generator).numpy()
    bucket_size = batch_size * bucket_batches
    batches = []
    for start in range(0, len(permutation), bucket_size):
        bucket = permutation[start : start + bucket_size]
        bucket = bucket[np.argsort(lengths[bucket], kind="stable")]
        batches.extend(bucket[i : i + batch_size] for i in range(0, len(bucket), batch_size))
    # The loader cuts the order into batch_size runs again, so a short batch may only come last.
    short = [batches.pop()] if len(batches[-1]) < batch_size else []
    order = torch.randperm(len(batches), generator=generator).tolist()
    if order:
        longest = max(order, key=lambda b: lengths[batches[b]].max())
        order.remove(longest)
        order.insert(0, longest)
    return [int(i) for batch in [batches[b] for b in order] + short for i in batch]


class LengthBucketSampler(Sampler):
    """Training sampler yielding bucketed_order(); a new order every epoch (Trainer calls set_epoch), the same
    order again for the same seed and epoch, so a resumed run skips exactly the batches it already trained on."""

    def __init__(self, lengths, batch_size, seed):
        self.lengths = np.asarray(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return len(self.lengths)

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(bucketed_order(self.lengths, self.batch_size, generator))


def padding_fraction(lengths, order, batch_size, multiple=1):
    """Share of the padded batch cells that are padding, for rows taken in `order` in batches of batch_size,
    each batch padded to its longest rounded up to `multiple`."""
    lengths = np.asarray(lengths)[np.asarray(order, dtype=np.int64)]
    batches = np.array_split(lengths, range(batch_size, len(lengths), batch_size))
    cells = sum(len(batch) * (-(-batch.max() // multiple) * multiple) for batch in batches)
    return 1.0 - lengths.sum() / cells if cells else 0.0
