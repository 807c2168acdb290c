"""Multi-label classification scores as a local `evaluate` module: exact-match accuracy and F1 (micro, macro)."""

import datasets
import evaluate
from sklearn.metrics import accuracy_score, f1_score


class Multilabel(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Exact-match (subset) accuracy and micro / macro / weighted F1 over labels.",
            citation="Pedregosa et al., Scikit-learn: Machine Learning in Python, JMLR 12, 2011.",
            inputs_description="predictions and references: one 0/1 vector per example.",
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("int64")),
                    "references": datasets.Sequence(datasets.Value("int64")),
                }
            ),
        )

    def _compute(self, predictions, references):
        return {
            "accuracy": float(accuracy_score(references, predictions)),
            "f1": float(f1_score(references, predictions, average="micro", zero_division=0)),
            "f1_macro": float(f1_score(references, predictions, average="macro", zero_division=0)),
            "f1_weighted": float(f1_score(references, predictions, average="weighted", zero_division=0)),
        }
