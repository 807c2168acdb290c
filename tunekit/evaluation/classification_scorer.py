"""Scoring classification, regression and multi-label logits (the chunks of a long text pooled first)."""

import numpy as np

from tunekit.data.problem_types import MULTI_LABEL, REGRESSION, SINGLE
from tunekit.encoding.classification import pool_chunks
from tunekit.evaluation.intervals import (
    Statistics, confusion_statistics, correlation_statistics, multi_label_statistics,
)
from tunekit.evaluation.metrics import load_local_metric
from tunekit.evaluation.thresholds import Thresholds, sigmoid, tuned_thresholds
from tunekit.evaluation.scored import Scored, Scorer


class ClassificationScorer(Scorer):
    """Scores one split: logits per example (chunks pooled), then the problem type's metrics."""

    def __init__(self, problem_type: str, num_labels: int, example_ids, pooling: str,
                 thresholds: Thresholds | None = None, tune: bool = False):
        """thresholds: multi-label decision thresholds (saved, or what dev decided); tune: this split (dev) tunes new
        ones, which it scores with and returns in Scored.decided."""
        self.thresholds = thresholds or Thresholds()
        self.tune = tune
        self.problem_type = problem_type
        self.num_labels = num_labels
        self.example_ids = example_ids
        self.pooling = pooling
        module = {SINGLE: "classification", REGRESSION: "regression", MULTI_LABEL: "multilabel"}[problem_type]
        self.metric = load_local_metric(module)

    def per_example(self, logits: np.ndarray, label_ids=None) -> tuple:
        """Logits (and labels) with one row per input example, in input order."""
        if len(self.example_ids) == len(set(self.example_ids)):
            return logits, label_ids
        pooled, starts = pool_chunks(logits, self.example_ids, self.pooling)
        return pooled, (label_ids[starts] if label_ids is not None else None)

    def score(self, eval_prediction) -> Scored:
        """Scored(metrics, logits per example, gold label ids, predicted ids for single-label)."""
        logits, references = self.per_example(eval_prediction.predictions, eval_prediction.label_ids)
        if references is None:
            return Scored({}, logits, decided=self.thresholds)
        if self.problem_type == REGRESSION:
            return Scored(self.metric.compute(predictions=logits[:, 0], references=references), logits, references)
        if self.problem_type == MULTI_LABEL:
            references = references.astype(int)
            extra, thresholds = {}, self.thresholds
            if self.tune:
                at_default = Thresholds().chosen(sigmoid(logits))
                extra["f1_untuned"] = self.metric.compute(predictions=at_default, references=references)["f1"]
                thresholds = Thresholds(tuned_thresholds(logits, references))
            chosen = thresholds.chosen(sigmoid(logits))
            metrics = dict(self.metric.compute(predictions=chosen, references=references), **extra)
            return Scored(metrics, logits, references, chosen, decided=thresholds)
        predictions = logits.argmax(-1)
        metrics = self.metric.compute(predictions=predictions, references=references, num_labels=self.num_labels)
        return Scored(metrics, logits, references, predictions)

    def statistics(self, scored: Scored) -> Statistics:
        """Each text's figures, for the bootstrap intervals of the problem type's scores."""
        if self.problem_type == REGRESSION:
            return correlation_statistics(scored.gold, scored.predicted[:, 0])
        if self.problem_type == MULTI_LABEL:
            return multi_label_statistics(scored.gold.astype(int), scored.details)
        return confusion_statistics(scored.gold.astype(int), scored.details.astype(int), self.num_labels)
