"""The entity scores NER is scored with (evaluation/entity_scores.py, seqeval's figures in the form of the
HuggingFace seqeval metric) against values computed by hand and against seqeval itself."""

import pytest

from tunekit.evaluation.entity_scores import entity_scores


def test_entity_scores_match_hand_computation():
    references = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O", "B-LOC", "I-LOC"]]
    predictions = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "O", "B-LOC", "O"]]
    scores = entity_scores(predictions, references)
    # Gold entities: PER, LOC, ORG, LOC (4). Predicted: PER, ORG, ORG, LOC (4). Correct: PER, ORG (2).
    assert scores["overall_precision"] == pytest.approx(2 / 4)
    assert scores["overall_recall"] == pytest.approx(2 / 4)
    assert scores["overall_f1"] == pytest.approx(0.5)
    assert scores["overall_accuracy"] == pytest.approx(6 / 8)
    assert scores["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "number": 2}
    assert scores["ORG"]["precision"] == pytest.approx(0.5) and scores["ORG"]["recall"] == 1.0


def test_strict_mode_rejects_an_entity_starting_with_i():
    references = [["B-PER", "I-PER", "O"]]
    predictions = [["I-PER", "I-PER", "O"]]
    lenient = entity_scores(predictions, references)
    strict = entity_scores(predictions, references, mode="strict", scheme="IOB2")
    assert lenient["overall_f1"] == 1.0
    assert strict["overall_f1"] == 0.0


def test_entity_scores_are_seqevals_on_random_tag_sequences():
    import random

    from seqeval.metrics import accuracy_score, classification_report


    rng = random.Random(7)
    tags = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-ORG", "B-MISC", "E-PER", "S-LOC", "B-ORG"]
    compared = 0
    for _ in range(40):
        lengths = [rng.randint(0, 9) for _ in range(rng.randint(2, 12))]
        references = [[rng.choice(tags) for _ in range(n)] for n in lengths]
        predictions = [[rng.choice(tags) if rng.random() < 0.4 else tag for tag in sentence] for sentence in references]
        ours = entity_scores(predictions, references)
        try:
            report = classification_report(references, predictions, output_dict=True, zero_division=0)
        except ZeroDivisionError:  # seqeval's report fails on data without a single entity
            continue
        compared += 1
        overall = report.pop("micro avg")
        for average in ("macro avg", "weighted avg"):
            report.pop(average)
        assert {k for k in ours if not k.startswith("overall_")} == set(report)
        for kind, values in report.items():
            assert ours[kind]["number"] == values["support"]
            for name, theirs in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
                assert ours[kind][name] == pytest.approx(float(values[theirs]), abs=1e-12)
        for name, theirs in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
            assert ours[f"overall_{name}"] == pytest.approx(float(overall[theirs]), abs=1e-12)
        assert ours["overall_accuracy"] == pytest.approx(accuracy_score(references, predictions))
    assert compared >= 35
