"""Bootstrap intervals: each score computed from sums equals the scorer's own score on the whole split, and the
intervals agree with a plain resample-and-rescore bootstrap."""

import numpy as np
import pytest
from scipy.stats import pearsonr
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

from tunekit.evaluation.entity_scores import entity_scores, sentence_hits
from tunekit.evaluation.intervals import (
    Statistics, bootstrap_intervals, confusion_statistics, correlation_statistics, hit_metrics,
    multi_label_statistics, resampled_sums,
)


def whole_split(statistics: Statistics) -> dict:
    """Each metric on the split itself: one 'resample' that takes every example once."""
    rows = np.asarray(statistics.rows, dtype=np.float64)
    distinct, inverse = np.unique(rows, axis=0, return_inverse=True)
    draws = np.bincount(inverse.ravel(), minlength=len(distinct))[None, :].astype(np.float64)
    sums = (statistics.combine or np.matmul)(draws, distinct)
    return {name: float(metric(sums)[0]) for name, metric in statistics.metrics.items()}


def random_tags(rng, sentences=300):
    tags = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-ORG"]
    return [[str(tag) for tag in rng.choice(tags, rng.integers(1, 12))] for _ in range(sentences)]


@pytest.mark.parametrize("mode", [None, "strict"])
def test_entity_hits_give_the_entity_scores(mode):
    rng = np.random.default_rng(0)
    gold = random_tags(rng)
    predicted = [[tag if rng.random() < 0.8 else "O" for tag in sentence] for sentence in gold]
    scores = entity_scores(predicted, gold, mode, "IOB2" if mode else None)
    whole = whole_split(Statistics(sentence_hits(predicted, gold, mode, "IOB2" if mode else None), hit_metrics()))
    for name in ("precision", "recall", "f1"):
        assert whole[name] == pytest.approx(scores[f"overall_{name}"])


@pytest.mark.parametrize("num_labels", [2, 4])
def test_confusion_sums_give_sklearns_scores(num_labels):
    rng = np.random.default_rng(1)
    gold = rng.integers(0, num_labels, 500)
    predicted = np.where(rng.random(500) < 0.7, gold, rng.integers(0, num_labels, 500))
    whole = whole_split(confusion_statistics(gold, predicted, num_labels))
    assert whole["accuracy"] == pytest.approx(accuracy_score(gold, predicted))
    assert whole["matthews_correlation"] == pytest.approx(matthews_corrcoef(gold, predicted))
    assert whole["f1_macro"] == pytest.approx(f1_score(gold, predicted, average="macro"))
    if num_labels == 2:
        assert whole["f1"] == pytest.approx(f1_score(gold, predicted))


def test_multi_label_and_regression_sums_give_the_scores():
    rng = np.random.default_rng(2)
    gold = rng.integers(0, 2, (300, 5))
    predicted = np.where(rng.random((300, 5)) < 0.8, gold, 1 - gold)
    whole = whole_split(multi_label_statistics(gold, predicted))
    assert whole["f1"] == pytest.approx(f1_score(gold, predicted, average="micro"))
    assert whole["accuracy"] == pytest.approx(accuracy_score(gold, predicted))
    values = rng.normal(size=400)
    guesses = values + rng.normal(scale=0.7, size=400)
    assert whole_split(correlation_statistics(values, guesses))["pearson"] == pytest.approx(pearsonr(values, guesses)[0])


@pytest.mark.slow
def test_intervals_match_a_plain_bootstrap_and_repeat_with_the_seed():
    rng = np.random.default_rng(3)
    gold = rng.integers(0, 3, 800)
    predicted = np.where(rng.random(800) < 0.75, gold, rng.integers(0, 3, 800))
    statistics = confusion_statistics(gold, predicted, 3)
    fast = bootstrap_intervals(statistics, 2000, seed=7)
    assert fast == bootstrap_intervals(statistics, 2000, seed=7)
    assert fast != bootstrap_intervals(statistics, 2000, seed=8)
    plain = []
    for _ in range(2000):
        taken = rng.integers(0, 800, 800)
        plain.append(matthews_corrcoef(gold[taken], predicted[taken]))
    low, high = np.percentile(plain, [2.5, 97.5])
    point = matthews_corrcoef(gold, predicted)
    assert fast["matthews_correlation"][0] < point < fast["matthews_correlation"][1]
    assert fast["matthews_correlation"] == pytest.approx((low, high), abs=0.01)
    assert resampled_sums(statistics, 5, seed=0).sum(axis=1).tolist() == [800] * 5  # n texts in every resample
    assert bootstrap_intervals(statistics, 0, seed=0) == {}


def test_a_run_records_intervals_and_errors_in_its_results(trained_ner):
    import json

    results = json.loads((trained_ner / "all_results.json").read_text())
    for prefix in ("eval", "predict"):
        assert results[f"{prefix}_f1_ci_low"] <= results[f"{prefix}_f1"] <= results[f"{prefix}_f1_ci_high"]
        analysis = json.loads((trained_ner / f"{'eval' if prefix == 'eval' else 'test'}_entity_errors.json").read_text())
        assert results[f"{prefix}_span_f1"] == pytest.approx(analysis["span"]["f1"])
        assert results[f"{prefix}_errors_missed"] == analysis["totals"]["missed"]
