"""Entity-level precision, recall and F1 for sequence labelling with seqeval, as a local `evaluate` module.

Loaded with evaluate.load(<this folder>), so it works offline; the figures come from entity_scores.py.
"""

import datasets
import evaluate

from tunekit.evaluation.entity_scores import entity_scores


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

    def _compute(self, predictions, references, mode=None, scheme=None):
        return entity_scores(predictions, references, mode, scheme)
