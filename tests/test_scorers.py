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


def test_the_closing_summary_shows_the_line_a_scorer_declares_for_its_error_analysis():
    """finish.py knows no task: the NER scorer declares its error analysis's line, a classifier's has none."""
    from tunekit.evaluation.ner_scorer import TagScorer
    from tunekit.evaluation.run import closing_figures
    from tunekit.outputs.finish import summary_table

    scorer = TagScorer([["Anna", "saw", "Oslo"]], NerDataArguments())
    tagged, metrics = closing_figures_of(scorer, scorer.scores_of([["B-PER", "O", "B-PER"]], [["B-PER", "O", "B-LOC"]]),
                                         closing_figures)
    table = summary_table(None, {"eval": metrics}, {"eval": tagged})
    assert "span f1 1.0000; errors: 1 wrong type, 0 wrong boundary, 0 wrong boundary and type, 0 missed, 0 spurious" in table
    classifier = ClassificationScorer(SINGLE, 2, [0, 1], "mean")
    sorted_out, metrics = closing_figures_of(
        classifier, classifier.score(EvalPrediction(np.array([[0.2, 0.8], [0.9, 0.1]]), np.array([1, 1]))), closing_figures)
    assert sorted_out.analysis_line is None and summary_table(None, {"eval": metrics}, {"eval": sorted_out}).count("\n") == 0


def closing_figures_of(scorer, scored, closing_figures) -> tuple:
    figures, scored = closing_figures(scorer, scored, "eval", 10, 0)
    return scored, {**{f"eval_{key}": value for key, value in scored.metrics.items()}, **figures}
