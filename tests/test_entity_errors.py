"""The NER error analysis: each kind of error on sentences worked by hand, type-agnostic span scores, and the
file a run leaves."""

import json

import pytest

from tunekit.evaluation.entity_errors import entity_errors, span_scores


def test_each_kind_of_error_is_found_and_counted_under_its_type():
    words = [["Anna", "Brandt", "met", "Bo", "in", "New", "York", "City", "today"]]
    gold = [["B-PER", "I-PER", "O", "B-PER", "O", "B-LOC", "I-LOC", "I-LOC", "O"]]
    predicted = [["B-ORG", "I-ORG", "O", "O", "O", "B-LOC", "I-LOC", "O", "B-MISC"]]
    analysis = entity_errors(words, gold, predicted)
    # Anna Brandt: same span, ORG for PER; New York: part of New York City; Bo: missed; today: spurious
    assert analysis["totals"] == {"wrong_type": 1, "wrong_boundary": 1, "wrong_boundary_and_type": 0,
                                  "missed": 1, "spurious": 1}
    assert analysis["per_type"]["PER"] == {"wrong_type": 1, "wrong_boundary": 0, "wrong_boundary_and_type": 0,
                                           "missed": 1, "spurious": 0}
    assert analysis["per_type"]["LOC"]["wrong_boundary"] == 1 and analysis["per_type"]["MISC"]["spurious"] == 1
    worst = analysis["worst_sentences"][0]
    assert worst["errors"] == 4 and worst["text"] == " ".join(words[0])
    assert {"type": "LOC", "words": [5, 8], "text": "New York City"} in worst["gold"]
    assert {"kind": "wrong_boundary", "type": "LOC", "gold": {"type": "LOC", "words": [5, 8], "text": "New York City"},
            "predicted": {"type": "LOC", "words": [5, 7], "text": "New York"}} in worst["error_list"]


def test_an_overlap_of_another_type_is_a_boundary_and_type_error_and_exact_matches_are_not_errors():
    words = [["the", "Bank", "of", "Oslo", "said"], ["Rome", "won"]]
    gold = [["O", "B-ORG", "I-ORG", "I-ORG", "O"], ["B-LOC", "O"]]
    predicted = [["O", "O", "O", "B-LOC", "O"], ["B-LOC", "O"]]
    analysis = entity_errors(words, gold, predicted)
    assert analysis["totals"]["wrong_boundary_and_type"] == 1 and sum(analysis["totals"].values()) == 1
    assert [s["sentence"] for s in analysis["worst_sentences"]] == [0]  # the right sentence is not listed


def test_span_scores_ignore_the_type():
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    predicted = [["B-ORG", "I-ORG", "O", "O"]]
    assert span_scores(gold, predicted) == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3)}
    assert span_scores([["O"]], [["O"]]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_a_run_writes_the_error_analysis_of_dev_and_test(trained_ner):
    for name in ("eval", "test"):
        analysis = json.loads((trained_ner / f"{name}_entity_errors.json").read_text())
        assert set(analysis["totals"]) == {"wrong_type", "wrong_boundary", "wrong_boundary_and_type", "missed", "spurious"}
        assert 0 <= analysis["span"]["f1"] <= 1
        errors = [s["errors"] for s in analysis["worst_sentences"]]
        assert errors == sorted(errors, reverse=True) and len(errors) <= 10
        assert sum(sum(counts.values()) for counts in analysis["per_type"].values()) == sum(analysis["totals"].values())
