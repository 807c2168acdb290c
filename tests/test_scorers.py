"""Scorers return what they predicted (the writers get it from there), and keep nothing between calls."""

import numpy as np
from transformers import EvalPrediction

from tunekit.data.problem_types import SINGLE
from tunekit.evaluation.classification_scorer import ClassificationScorer
from tunekit.evaluation.ner_scorer import NerScorer
from tunekit.tasks.ner_arguments import NerDataArguments

ID2LABEL = {0: "B-PER", 1: "I-PER", 2: "O"}


def test_the_ner_scorer_returns_one_tag_per_word_and_its_scores():
    sentences = {"tokens": [["Anna", "Brandt", "sings"], ["Oslo"]], "tags": [["B-PER", "I-PER", "O"], ["O"]]}
    # one window per sentence: [CLS] words [SEP]; word_index -1 marks pieces that are not a word's first
    features = {"example_id": [0, 1], "word_index": [[-1, 0, 1, 2, -1], [-1, 0, -1, -1, -1]]}
    scorer = NerScorer(sentences, features, ID2LABEL, NerDataArguments())
    right = np.array([[2, 0, 1, 2, 2], [2, 2, 2, 2, 2]])
    wrong = np.array([[2, 0, 2, 2, 2], [2, 0, 2, 2, 2]])
    first = scorer.score(EvalPrediction(predictions=right, label_ids=right))
    second = scorer.score(EvalPrediction(predictions=wrong, label_ids=wrong))
    assert first.predicted == [["B-PER", "I-PER", "O"], ["O"]] and first.metrics["f1"] == 1.0
    assert second.predicted == [["B-PER", "O", "O"], ["B-PER"]] and second.metrics["f1"] == 0.0
    assert first.gold == sentences["tags"] and "PER" in first.details
    assert first.predicted == [["B-PER", "I-PER", "O"], ["O"]]  # the first result is not overwritten


def test_the_classification_scorer_returns_logits_per_text_and_the_predicted_ids():
    scorer = ClassificationScorer(SINGLE, 2, [0, 1, 1, 2], "mean")  # text 1 was cut into two chunks
    logits = np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    scored = scorer.score(EvalPrediction(predictions=logits, label_ids=np.array([0, 1, 1, 1])))
    assert scored.predicted.shape == (3, 2) and scored.details.tolist() == [0, 1, 0]
    assert scored.gold.tolist() == [0, 1, 1] and scored.metrics["accuracy"] == 2 / 3
    unlabelled = scorer.score(EvalPrediction(predictions=logits, label_ids=None))
    assert unlabelled.metrics == {} and unlabelled.predicted.shape == (3, 2)
