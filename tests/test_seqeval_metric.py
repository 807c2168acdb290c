"""The local seqeval module against values computed by hand."""

import pytest

from tunekit.evaluation.metrics import load_local_metric


@pytest.fixture(scope="module")
def seqeval():
    return load_local_metric("seqeval")


def test_entity_scores_match_hand_computation(seqeval):
    references = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O", "B-LOC", "I-LOC"]]
    predictions = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "O", "B-LOC", "O"]]
    scores = seqeval.compute(predictions=predictions, references=references)
    # Gold entities: PER, LOC, ORG, LOC (4). Predicted: PER, ORG, ORG, LOC (4). Correct: PER, ORG (2).
    assert scores["overall_precision"] == pytest.approx(2 / 4)
    assert scores["overall_recall"] == pytest.approx(2 / 4)
    assert scores["overall_f1"] == pytest.approx(0.5)
    assert scores["overall_accuracy"] == pytest.approx(6 / 8)
    assert scores["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "number": 2}
    assert scores["ORG"]["precision"] == pytest.approx(0.5) and scores["ORG"]["recall"] == 1.0


def test_strict_mode_rejects_an_entity_starting_with_i(seqeval):
    references = [["B-PER", "I-PER", "O"]]
    predictions = [["I-PER", "I-PER", "O"]]
    lenient = seqeval.compute(predictions=predictions, references=references)
    strict = seqeval.compute(predictions=predictions, references=references, mode="strict", scheme="IOB2")
    assert lenient["overall_f1"] == 1.0
    assert strict["overall_f1"] == 0.0
