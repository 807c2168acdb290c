"""95% bootstrap confidence intervals of a split's scores, resampling its sentences or texts.

Every score here is a function of sums over examples (entity hits and counts, a confusion matrix, the sums behind
a Pearson correlation). Drawing n examples with replacement is then the same as drawing how many times each
distinct row of per-example figures is taken, a multinomial over the distinct rows with their frequencies as
probabilities: a thousand resamples of CoNLL-2003 test cost a (1000 x distinct rows) draw and one matrix product,
not a thousand re-scorings.
"""

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np


@dataclass
class Statistics:
    """rows: the n x k figures of each example; metrics: name -> (sums: R x k) -> the metric of each resample;
    combine: (draws: R x distinct rows, distinct rows) -> sums, where the sums are not a plain product."""

    rows: np.ndarray
    metrics: dict[str, Callable[[np.ndarray], np.ndarray]]
    combine: Optional[Callable[[np.ndarray, np.ndarray], np.ndarray]] = None


def divided(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (the scorers' zero_division)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), 0.0)


def resampled_sums(statistics: Statistics, resamples: int, seed: int) -> np.ndarray:
    """The sums of the examples' rows over `resamples` bootstrap resamples of its n examples."""
    rows = np.asarray(statistics.rows, dtype=np.float64)
    distinct, counts = np.unique(rows, axis=0, return_counts=True)
    draws = np.random.default_rng(seed).multinomial(len(rows), counts / counts.sum(), size=resamples)
    return (statistics.combine or np.matmul)(draws.astype(np.float64), distinct)


def bootstrap_intervals(statistics: Statistics, resamples: int, seed: int, level: float = 0.95) -> dict:
    """{metric: (low, high)}: the percentile interval of each metric over `resamples` resamples (seeded)."""
    if resamples <= 0 or len(statistics.rows) < 2:
        return {}
    sums = resampled_sums(statistics, resamples, seed)
    tail = 100 * (1 - level) / 2
    intervals = {}
    for name, metric in statistics.metrics.items():
        values = metric(sums)
        values = values[np.isfinite(values)]
        if len(values):
            low, high = np.percentile(values, [tail, 100 - tail])
            intervals[name] = (float(low), float(high))
    return intervals


def interval_metrics(prefix: str, intervals: dict) -> dict:
    """{prefix_metric_ci_low, prefix_metric_ci_high} for the results files."""
    metrics = {}
    for name, (low, high) in intervals.items():
        metrics[f"{prefix}_{name}_ci_low"] = low
        metrics[f"{prefix}_{name}_ci_high"] = high
    return metrics


def hit_metrics() -> dict:
    """Precision, recall and F1 from (hits, predicted, gold) sums: entities, or labels of multi-label texts."""
    return {
        "precision": lambda sums: divided(sums[:, 0], sums[:, 1]),
        "recall": lambda sums: divided(sums[:, 0], sums[:, 2]),
        "f1": lambda sums: divided(2 * sums[:, 0], sums[:, 1] + sums[:, 2]),
    }


def confusion_statistics(references: np.ndarray, predictions: np.ndarray, num_labels: int) -> Statistics:
    """Accuracy, Matthews correlation, macro F1 and (two labels) the positive class's F1 of single-label
    predictions, from each text's cell of the confusion matrix."""
    cells = (np.asarray(references) * num_labels + np.asarray(predictions))[:, None]

    def confusion_counts(draws, distinct):  # each resample's count of every (gold, predicted) cell
        counts = np.zeros((len(draws), num_labels * num_labels))
        counts[:, distinct[:, 0].astype(int)] = draws
        return counts

    def matrices(sums):
        return sums.reshape(-1, num_labels, num_labels)  # [resample, gold, predicted]

    def matthews(sums):
        matrix = matrices(sums)
        gold, predicted = matrix.sum(axis=2), matrix.sum(axis=1)
        total, correct = matrix.sum(axis=(1, 2)), np.trace(matrix, axis1=1, axis2=2)
        covariance = correct * total - (gold * predicted).sum(axis=1)
        spread = (total**2 - (predicted**2).sum(axis=1)) * (total**2 - (gold**2).sum(axis=1))
        return divided(covariance, np.sqrt(spread))

    def f1_per_label(sums):
        matrix = matrices(sums)
        hits = np.diagonal(matrix, axis1=1, axis2=2)
        return divided(2 * hits, matrix.sum(axis=2) + matrix.sum(axis=1))

    present = np.union1d(references, predictions)  # sklearn's macro F1 averages over the labels that occur
    metrics = {
        "accuracy": lambda sums: divided(np.trace(matrices(sums), axis1=1, axis2=2), sums.sum(axis=1)),
        "matthews_correlation": matthews,
        "f1_macro": lambda sums: f1_per_label(sums)[:, present].mean(axis=1),
    }
    if num_labels == 2:
        metrics["f1"] = lambda sums: f1_per_label(sums)[:, 1]
    return Statistics(cells, metrics, confusion_counts)


def multi_label_statistics(references: np.ndarray, predictions: np.ndarray) -> Statistics:
    """Micro precision, recall and F1, and exact-match accuracy, of multi-label predictions (0/1 per label)."""
    rows = np.stack([
        (references * predictions).sum(axis=1), predictions.sum(axis=1), references.sum(axis=1),
        (references == predictions).all(axis=1), np.ones(len(references)),
    ], axis=1).astype(np.float64)
    metrics = hit_metrics()
    metrics["accuracy"] = lambda sums: divided(sums[:, 3], sums[:, 4])
    return Statistics(rows, metrics)


def correlation_statistics(references: np.ndarray, predictions: np.ndarray) -> Statistics:
    """Pearson's correlation of a regression's predictions, from the five sums behind it."""
    x, y = np.asarray(predictions, dtype=np.float64), np.asarray(references, dtype=np.float64)
    rows = np.stack([np.ones_like(x), x, y, x * x, y * y, x * y], axis=1)

    def pearson(sums):
        n, sx, sy, sxx, syy, sxy = sums.T
        return divided(n * sxy - sx * sy, np.sqrt((n * sxx - sx**2) * (n * syy - sy**2)))

    return Statistics(rows, {"pearson": pearson})
