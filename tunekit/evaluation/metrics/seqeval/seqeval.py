"""Entity-level precision, recall and F1 for sequence labelling with seqeval, as a local `evaluate` module.

Loaded with evaluate.load(<this folder>), so it works offline.
"""

import datasets
import evaluate
from seqeval.metrics import accuracy_score, classification_report
from seqeval.scheme import IOB1, IOB2, IOBES, BILOU, IOE1, IOE2

SCHEMES = {"IOB1": IOB1, "IOB2": IOB2, "IOE1": IOE1, "IOE2": IOE2, "IOBES": IOBES, "BILOU": BILOU}


class Seqeval(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Entity-level precision, recall and F1 (seqeval), plus token accuracy.",
            citation="Hiroki Nakayama, seqeval: A Python framework for sequence labeling evaluation, 2018.",
            inputs_description="predictions and references: lists of label sequences, one label per word.",
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("string")),
                    "references": datasets.Sequence(datasets.Value("string")),
                }
            ),
        )

    def _compute(self, predictions, references, mode=None, scheme=None, zero_division=0):
        if scheme is not None and scheme not in SCHEMES:
            raise ValueError(f"unknown scheme {scheme}: choose one of {', '.join(SCHEMES)}")
        report = classification_report(
            y_true=references,
            y_pred=predictions,
            mode=mode,
            scheme=SCHEMES.get(scheme) if scheme else None,
            output_dict=True,
            zero_division=zero_division,
        )
        overall = report.pop("micro avg")
        for average in ("macro avg", "weighted avg"):
            report.pop(average, None)
        scores = {
            entity_type: {
                "precision": float(values["precision"]),
                "recall": float(values["recall"]),
                "f1": float(values["f1-score"]),
                "number": int(values["support"]),
            }
            for entity_type, values in report.items()
        }
        scores["overall_precision"] = float(overall["precision"])
        scores["overall_recall"] = float(overall["recall"])
        scores["overall_f1"] = float(overall["f1-score"])
        scores["overall_accuracy"] = float(accuracy_score(y_true=references, y_pred=predictions))
        return scores
