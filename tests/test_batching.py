"""Length-bucketed training order, length-sorted evaluation and results put back in input order."""

import dataclasses

import datasets
import pytest
import numpy as np
import torch

from tunekit.encoding.lengths import add_lengths, lengths_of
from tunekit.training.speed.buckets import (
    LengthBucketSampler,
    batches_of,
    bucketed_batches,
    equal_token_cuts,
    padding_fraction,
)
from tunekit.training.speed.length_order import in_input_order, in_order_scorer, sorted_by_length


def random_lengths(count, seed=0):
    return np.random.default_rng(seed).integers(3, 120, size=count)


def test_bucketed_batches_cover_every_row_once_with_less_padding_than_random_batches():
    lengths = random_lengths(14041)
    batches = bucketed_batches(lengths, 32, torch.Generator().manual_seed(1))
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    assert len(batches) == len(LengthBucketSampler(lengths, 32, seed=1)) == -(-14041 // 32)
    wide = LengthBucketSampler(lengths, 32, seed=1, bucket_batches=50)
    assert len(list(wide)) == len(wide) == len(batches)  # the same steps per epoch, whatever the bucket
    assert padding_fraction(lengths, list(wide)) < padding_fraction(lengths, batches)
    shuffled = torch.randperm(len(lengths), generator=torch.Generator().manual_seed(1)).tolist()
    assert padding_fraction(lengths, batches) < 0.3 < 0.4 < padding_fraction(lengths, batches_of(shuffled, 32))


def test_batches_hold_about_equal_tokens_and_the_longest_row_comes_first():
    lengths = random_lengths(1000)
    batches = bucketed_batches(lengths, 32, torch.Generator().manual_seed(2), bucket_batches=3)
    assert lengths[batches[0]].max() == lengths.max()
    # 1000 rows = 10 buckets of 96 (3 batches each) + 40 (2 batches): as many steps as 32-row batches make.
    assert len(batches) == 32
    rows = [len(batch) for batch in batches]
    assert min(rows) < 32 < max(rows)  # short rows come in bigger batches, long ones in smaller
    # Each full bucket is cut at thirds of its tokens: a batch holds about a third of its bucket's tokens.
    tokens = np.array([lengths[batch].sum() for batch in batches])
    assert np.median(tokens) == pytest.approx(lengths.sum() / len(batches), rel=0.25)
    assert tokens.max() < 2 * np.median(tokens)


def test_equal_token_cuts_leave_no_run_empty():
    assert equal_token_cuts(np.array([1, 1, 1, 1, 100]), 3).tolist() == [3, 4]  # runs 1+1+1, 1, 100
    assert equal_token_cuts(np.array([2, 2, 2, 2]), 4).tolist() == [1, 2, 3]
    assert equal_token_cuts(np.array([1, 50, 60]), 3).tolist() == [1, 2]


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
    assert padding_fraction([3, 5], [[0, 1]]) == pytest.approx(0.2)  # 8 real tokens in 2 x 5 cells
    assert padding_fraction([3, 5], [[0, 1]], multiple=8) == pytest.approx(0.5)  # 8 in 2 x 8
    assert padding_fraction([3, 5, 4], batches_of([0, 1, 2], 2)) == pytest.approx(1 - 12 / 14)  # 12 in 2 x 5 + 1 x 4


def test_trainer_draws_every_training_row_once_in_batches_of_varying_rows(tiny_bert, tmp_path):
    from transformers import (
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        TrainingArguments,
    )

    from tunekit.training.speed.switch import SPEED_OFF, Choice
    from tunekit.training.trainer import TunekitTrainer

    rng = np.random.default_rng(3)
    rows = [[101] + [7] * int(n) + [102] for n in rng.integers(1, 60, size=300)]
    dataset = add_lengths(datasets.Dataset.from_dict({"input_ids": rows, "labels": [[0] * len(r) for r in rows]}))
    model = AutoModelForTokenClassification.from_pretrained(tiny_bert, num_labels=2)
    args = TrainingArguments(output_dir=str(tmp_path), per_device_train_batch_size=16, use_cpu=True, report_to=[])
    collator = DataCollatorForTokenClassification(AutoTokenizer.from_pretrained(tiny_bert))
    buckets = dataclasses.replace(SPEED_OFF, length_buckets=Choice(True, "test"), equal_token_batches=True)
    trainer = TunekitTrainer(model=model, args=args, train_dataset=dataset, data_collator=collator, speed=buckets)
    loader = trainer.get_train_dataloader()
    batches = list(loader)
    assert len(batches) == len(loader) == -(-300 // 16)
    assert sum(len(batch["input_ids"]) for batch in batches) == 300
    assert len({len(batch["input_ids"]) for batch in batches}) > 1
    # Each batch pads to its own longest row: far fewer cells than 300 rows padded to the longest of all.
    assert sum(batch["input_ids"].numel() for batch in batches) < 0.8 * 300 * max(len(r) for r in rows)
    # --auto_find_batch_size lowers Trainer's batch size after an out-of-memory error; the buckets follow it.
    trainer._train_batch_size = 8
    assert len(trainer.get_train_dataloader()) == -(-300 // 8)
    # Sequence classification (the default) keeps batch_size rows: 300 = 4 buckets of 4 x 16 + 44 (16, 16, 12).
    trainer.speed, trainer._train_batch_size = dataclasses.replace(buckets, equal_token_batches=False), 16
    assert sorted(len(batch["input_ids"]) for batch in trainer.get_train_dataloader()) == [12] + [16] * 18


def test_classification_batches_keep_batch_size_rows():
    lengths = random_lengths(1000)
    batches = bucketed_batches(lengths, 32, torch.Generator().manual_seed(4), equal_tokens=False)
    assert sorted(i for batch in batches for i in batch) == list(range(1000))
    assert sorted(len(batch) for batch in batches) == [8] + [32] * 31  # 7 buckets of 128 + 104 (32, 32, 32, 8)
    assert lengths[batches[0]].max() == lengths.max()
