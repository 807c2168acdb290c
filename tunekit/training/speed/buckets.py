"""Batch order that wastes little on padding: length-bucketed training batches and length-sorted evaluation."""

import numpy as np
import torch
from torch.utils.data import Sampler

# Batches per bucket (--length_bucket_batches): few, so a batch cut from the sorted bucket still mixes kinds of
# sentence, which is what a step needs (the dev F1 of each choice is measured in docs/speed.md).
BUCKET_BATCHES = 4


def bucketed_batches(lengths, batch_size: int, generator, bucket_batches=BUCKET_BATCHES, equal_tokens: bool = True) -> list:
    """Training batches (lists of row indices) of similar lengths.

    A random permutation is cut into buckets of bucket_batches x batch_size rows; each bucket is sorted by
    length and cut into as many batches as batch_size rows would make. With equal_tokens (token
    classification, where the loss weighs tokens) the cuts fall at equal shares of the bucket's tokens, so a
    batch of short rows holds more rows than batch_size and one of long rows fewer, and every step carries
    about the tokens of a random batch (measured in docs/speed.md). Without it (sequence classification, where the loss is a mean over examples)
    every batch keeps batch_size rows, so every example weighs what it does in a random batch. The batches of
    the epoch are shuffled, so the mix of short and long steps stays random; the batch holding the longest row
    comes first, so a run that does not fit in memory fails at once.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    permutation = torch.randperm(len(lengths), generator=generator).numpy()
    bucket_size = batch_size * bucket_batches
    batches = []
    for start in range(0, len(permutation), bucket_size):
        bucket = permutation[start : start + bucket_size]
        bucket = bucket[np.argsort(lengths[bucket], kind="stable")]
        if equal_tokens:
            batches.extend(np.split(bucket, equal_token_cuts(lengths[bucket], -(-len(bucket) // batch_size))))
        else:
            batches.extend(batches_of(bucket, batch_size))
    order = torch.randperm(len(batches), generator=generator).tolist()
    if order:
        longest = max(order, key=lambda b: lengths[batches[b]].max())
        order.remove(longest)
        order.insert(0, longest)
    return [batches[b].tolist() for b in order]


def equal_token_cuts(sorted_lengths, parts) -> 'np.ndarray':
    """Where to cut rows of increasing length into `parts` non-empty runs of about equal total length."""
    rows = len(sorted_lengths)
    totals = np.cumsum(sorted_lengths)
    cuts = np.searchsorted(totals, totals[-1] * np.arange(1, parts) / parts) + 1
    for i in range(len(cuts)):  # every run keeps at least one row, and leaves one for each run after it
        lowest = cuts[i - 1] + 1 if i else 1
        cuts[i] = min(max(cuts[i], lowest), rows - (parts - 1 - i))
    return cuts


class LengthBucketSampler(Sampler):
    """Batch sampler yielding bucketed_batches(); new batches every epoch (Trainer calls set_epoch), the same
    batches again for the same seed and epoch, so a resumed run skips exactly the batches it already trained on.
    It has no `batch_size` attribute on purpose: accelerate would then take its batches for fixed-size ones and,
    sharding them over processes, drop every batch of another size."""

    def __init__(self, lengths, batch_size, seed, bucket_batches=BUCKET_BATCHES, equal_tokens=True):
        self.lengths = np.asarray(lengths)
        self.rows_per_batch = batch_size
        self.seed = seed
        self.bucket_batches = bucket_batches
        self.equal_tokens = equal_tokens
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self):
        full, rest = divmod(len(self.lengths), self.rows_per_batch * self.bucket_batches)
        return full * self.bucket_batches + -(-rest // self.rows_per_batch)

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(
            bucketed_batches(self.lengths, self.rows_per_batch, generator, self.bucket_batches, self.equal_tokens)
        )


def batches_of(order, batch_size: int) -> list:
    """`order` cut into consecutive batches of batch_size rows, as a DataLoader with a plain sampler does."""
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def padding_fraction(lengths, batches, multiple: int = 1) -> float:
    """Share of the padded batch cells that are padding, each batch (row indices) padded to its longest
    rounded up to `multiple`."""
    lengths = np.asarray(lengths)
    rows = [lengths[np.asarray(batch, dtype=np.int64)] for batch in batches]
    cells = sum(len(row) * (-(-row.max() // multiple) * multiple) for row in rows if len(row))
    return 1.0 - sum(row.sum() for row in rows) / cells if cells else 0.0
