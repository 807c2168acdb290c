"""Length-bucketed training order, length-sorted evaluation and results put back in input order."""

import datasets
import pytest
import numpy as np
import torch

from tunekit.batching import LengthBucketSampler, add_lengths, bucketed_order, lengths_of, padding_fraction
from tunekit.trainer import in_input_order, in_order_scorer, sorted_by_length


def random_lengths(count, seed=0):
    return np.random.default_rng(seed).integers(3, 120, size=count)


def test_bucketed_order_is_a_permutation_with_little_padding():
    lengths = random_lengths(14041)
    order = bucketed_order(lengths, 32, torch.Generator().manual_seed(1))
    assert sorted(order) == list(range(len(lengths)))
    shuffled = torch.randperm(len(lengths), generator=torch.Generator().manual_seed(1)).tolist()
    assert padding_fraction(lengths, order, 32) < 0.05 < 0.4 < padding_fraction(lengths, shuffled, 32)


def test_only_the_last_batch_is_short_and_the_longest_comes_first():
    lengths = random_lengths(1000)
    order = bucketed_order(lengths, 32, torch.Generator().manual_seed(2), bucket_batches=3)
    batches = [order[i : i + 32] for i in range(0, len(order), 32)]
    assert lengths[batches[0]].max() == lengths.max()
    # 1000 = 10 buckets of 96 + 40: the 40 make one full batch and one of 8, which must come last.
    assert [len(batch) for batch in batches] == [32] * 31 + [8]
    # Batches cut from a sorted bucket of 96 span about a third of the length range; only the full batch
    # of the last, 40-row bucket may span more.
    spreads = [lengths[batch].max() - lengths[batch].min() for batch in batches]
    assert sum(spread > 117 // 2 for spread in spreads) <= 1


def test_sampler_order_depends_on_seed_and_epoch_only():
    lengths = random_lengths(500)
    first, again = LengthBucketSampler(lengths, 16, seed=5), LengthBucketSampler(lengths, 16, seed=5)
    assert list(first) == list(again)
    first.set_epoch(1)
    assert list(first) != list(again)
    again.set_epoch(1)
    assert list(first) == list(again)


def test_sorted_evaluation_is_scored_in_input_order():
    rows = [[101] + [7] * n + [102] for n in (5, 1, 9, 3)]
    dataset = add_lengths(datasets.Dataset.from_dict({"input_ids": rows}))
    assert lengths_of(dataset).tolist() == [7, 3, 11, 5]
    ordered, order = sorted_by_length(dataset)
    assert [len(ids) for ids in ordered["input_ids"]] == [3, 5, 7, 11]
    # A model "predicts" each row's length; the scorer must see them in the dataset's own order.
    predictions = np.array([[len(ids)] for ids in ordered["input_ids"]])
    seen = []
    scorer = in_order_scorer(lambda p: seen.append(p.predictions[:, 0].tolist()) or {}, order)
    scorer(type("P", (), {"predictions": predictions, "label_ids": None})())
    assert seen == [[7, 3, 11, 5]]
    assert in_input_order((predictions, predictions), order)[1][:, 0].tolist() == [7, 3, 11, 5]


def test_padding_fraction_counts_rounding_to_a_multiple():
    assert padding_fraction([3, 5], [0, 1], 2) == pytest.approx(0.2)  # 8 real tokens in 2 x 5 cells
    assert padding_fraction([3, 5], [0, 1], 2, multiple=8) == pytest.approx(0.5)  # 8 in 2 x 8
