"""The local classification, regression and multi-label modules against values computed by hand."""

import math

import pytest

from tunekit.evaluation.metrics import load_local_metric


def test_classification_scores():
    metric = load_local_metric("classification")
    references = [1, 1, 1, 0, 0, 0]
    predictions = [1, 1, 0, 1, 0, 0]
    scores = metric.compute(predictions=predictions, references=references, num_labels=2)
    # TP=2 FP=1 FN=1 TN=2
    assert scores["accuracy"] == pytest.approx(4 / 6)
    assert scores["f1"] == pytest.approx(2 / 3)
    assert scores["f1_macro"] == pytest.approx(2 / 3)
    assert scores["f1_weighted"] == pytest.approx(2 / 3)
    assert scores["matthews_correlation"] == pytest.approx((2 * 2 - 1 * 1) / math.sqrt(3 * 3 * 3 * 3))


def test_weighted_f1_differs_from_macro_on_imbalanced_classes():
    metric = load_local_metric("classification")
    references = [0, 0, 0, 0, 1, 2]
    predictions = [0, 0, 0, 1, 1, 0]
    scores = metric.compute(predictions=predictions, references=references, num_labels=3)
    f1_class0 = 2 * 3 / (2 * 3 + 1 + 1)  # TP=3 FP=1 FN=1
    f1_class1 = 2 * 1 / (2 * 1 + 1 + 0)  # TP=1 FP=1 FN=0
    assert scores["f1_macro"] == pytest.approx((f1_class0 + f1_class1 + 0) / 3)
    assert scores["f1_weighted"] == pytest.approx((4 * f1_class0 + 1 * f1_class1) / 6)
    assert "f1" not in scores


def test_regression_scores():
    metric = load_local_metric("regression")
    scores = metric.compute(predictions=[1.0, 2.0, 4.0], references=[1.0, 2.0, 3.0])
    assert scores["spearmanr"] == pytest.approx(1.0)
    assert scores["mse"] == pytest.approx(1 / 3)
    # Pearson by hand: x=(1,2,4) mean 7/3, y=(1,2,3) mean 2.
    dx, dy = [-4 / 3, -1 / 3, 5 / 3], [-1, 0, 1]
    pearson = sum(a * b for a, b in zip(dx, dy)) / math.sqrt(sum(a * a for a in dx) * sum(b * b for b in dy))
    assert scores["pearson"] == pytest.approx(pearson)


def test_multilabel_scores():
    metric = load_local_metric("multilabel")
    scores = metric.compute(predictions=[[1, 0, 1], [0, 1, 0]], references=[[1, 0, 1], [1, 1, 0]])
    assert scores["accuracy"] == pytest.approx(0.5)
    assert scores["f1"] == pytest.approx(2 * 3 / (2 * 3 + 0 + 1))  # micro: TP=3 FP=0 FN=1
