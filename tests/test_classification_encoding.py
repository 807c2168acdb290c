"""Pairs are encoded as real pairs; single texts are cut at the head, the tail, or both."""

import pytest
from transformers import AutoTokenizer

import numpy as np

from tunekit.data.problem_types import MULTI_LABEL, REGRESSION, SINGLE
from tunekit.encoding.classification import ClassificationEncoder, keep_pieces, pool_chunks
from tunekit.modeling.loading import default_model_path


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(default_model_path())


def encoder(tokenizer, side="head", head=3, problem=SINGLE, label2id=None, max_length=8, chunk_stride=None):
    return ClassificationEncoder(
        tokenizer, max_length, side, head, problem, label2id or {"0": 0, "1": 1}, True, chunk_stride
    )


class batch(dict):
    """A one-example batch; calling an encoder on it passes the example index too."""

    def __init__(self, text_a, text_b=None, labels=("1",)):
        super().__init__(text_a=[text_a], text_b=[text_b], labels=[list(labels)])


def encode(encoder_, one_batch):
    return encoder_(one_batch, [0])


def test_pairs_get_two_segments_with_token_type_ids(tokenizer):
    features = encode(encoder(tokenizer, max_length=32), batch("the cat sat", "a dog ran"))
    tokens = tokenizer.convert_ids_to_tokens(features["input_ids"][0])
    assert tokens == ["[CLS]", "the", "cat", "sat", "[SEP]", "a", "dog", "ran", "[SEP]"]
    assert features["token_type_ids"][0] == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    assert features["labels"] == [1]


def test_long_pairs_are_truncated_longest_first(tokenizer):
    features = encode(encoder(tokenizer, max_length=9), batch("one two three four five six seven", "a dog"))
    tokens = tokenizer.convert_ids_to_tokens(features["input_ids"][0])
    assert tokens == ["[CLS]", "one", "two", "three", "four", "[SEP]", "a", "dog", "[SEP]"]


@pytest.mark.parametrize(
    "side, expected",
    [
        ("head", ["one", "two", "three", "four", "five", "six"]),
        ("tail", ["five", "six", "seven", "eight", "nine", "ten"]),
        ("head_tail", ["one", "two", "three", "eight", "nine", "ten"]),
    ],
)
def test_truncation_sides_of_single_texts(tokenizer, side, expected):
    features = encode(encoder(tokenizer, side=side, head=3), batch("one two three four five six seven eight nine ten"))
    tokens = tokenizer.convert_ids_to_tokens(features["input_ids"][0])
    assert tokens == ["[CLS]", *expected, "[SEP]"]
    assert len(features["attention_mask"][0]) == 8


def test_keep_pieces_head_larger_than_budget_keeps_only_the_head():
    assert keep_pieces(list(range(10)), 4, "head_tail", 9) == [0, 1, 2, 3]
    assert keep_pieces(list(range(3)), 4, "tail", 1) == [0, 1, 2]


def test_regression_and_multi_label_targets(tokenizer):
    assert encode(encoder(tokenizer, problem=REGRESSION), batch("a", labels=["3.8"]))["labels"] == [3.8]
    label2id = {"rain": 0, "sun": 1, "wind": 2}
    features = encode(encoder(tokenizer, problem=MULTI_LABEL, label2id=label2id), batch("a", labels=["wind", "rain"]))
    assert features["labels"] == [[1.0, 0.0, 1.0]]


def test_long_texts_split_into_overlapping_chunks_that_share_the_label(tokenizer):
    text = "one two three four five six seven eight nine ten"
    features = encoder(tokenizer, max_length=8, chunk_stride=2)(
        {"text_a": [text, "short one"], "text_b": [None, None], "labels": [["1"], ["0"]]}, [0, 1]
    )
    chunks = [tokenizer.convert_ids_to_tokens(ids)[1:-1] for ids in features["input_ids"]]
    assert chunks == [
        ["one", "two", "three", "four", "five", "six"],
        ["five", "six", "seven", "eight", "nine", "ten"],
        ["short", "one"],
    ]
    assert features["example_id"] == [0, 0, 1]
    assert features["labels"] == [1, 1, 0]


def test_chunk_logits_are_pooled_per_example():
    logits = np.array([[1.0, 3.0], [3.0, 1.0], [0.0, 5.0]])
    mean, starts = pool_chunks(logits, [0, 0, 1], "mean")
    assert mean.tolist() == [[2.0, 2.0], [0.0, 5.0]] and starts.tolist() == [0, 2]
    maximum, _ = pool_chunks(logits, [0, 0, 1], "max")
    assert maximum.tolist() == [[3.0, 3.0], [0.0, 5.0]]
