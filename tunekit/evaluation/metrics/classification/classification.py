"""Single-label classification scores as a local `evaluate` module: accuracy, F1 (binary, macro, weighted), MCC."""

import datasets
import evaluate
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef


class Classification(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Accuracy, F1 (binary for two classes, macro and weighted) and Matthews correlation.",
            citation="Pedregosa et al., Scikit-learn: Machine Learning in Python, JMLR 12, 2011.",
            inputs_description="predictions and references: class ids.",
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references, num_labels=None):
        scores = {
            "accuracy": float(accuracy_score(references, predictions)),
            "f1_macro": float(f1_score(references, predictions, average="macro", zero_division=0)),
            "f1_weighted": float(f1_score(references, predictions, average="weighted", zero_division=0)),
            "matthews_correlation": float(matthews_corrcoef(references, predictions)),
        }
        if num_labels == 2:
            # GLUE's F1 (MRPC, QQP): the positive class is id 1.
            scores["f1"] = float(f1_score(references, predictions, average="binary", pos_label=1, zero_division=0))
        return scores
