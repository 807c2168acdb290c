"""Per-label decision thresholds of a multi-label classifier, tuned on dev (--tune_thresholds), kept in the model
folder as thresholds.json and used wherever the folder predicts (eval.sh, predict.sh, the server).

Each label's threshold is the one that maximises that label's F1 on dev: the dev texts sorted by the label's
probability, every cut tried at once from cumulative counts, the threshold put halfway between the last text
taken and the first one left. A label dev never has keeps 0.5, the default without tuning.
"""

import json
import os
from dataclasses import dataclass

import numpy as np

from tunekit.folder import OutputFolder
from tunekit.errors import UserError
from tunekit.files import write_json

DEFAULT = 0.5


@dataclass(frozen=True, eq=False)
class Thresholds:
    """Per-label decision thresholds: those a folder saved, or tuned on dev (a new object: the dev scorer returns it
    in its Scored.decided, and the test scorer and writers receive it); values None: 0.5 for every label."""

    values: np.ndarray | None = None

    def chosen(self, probabilities: np.ndarray) -> np.ndarray:
        """0/1 per label: the probability above the label's threshold."""
        return (probabilities > (self.values if self.values is not None else DEFAULT)).astype(int)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.asarray(logits, dtype=np.float64)))


def best_threshold(probabilities: np.ndarray, gold: np.ndarray) -> float:
    """The threshold maximising one label's F1 (ties: the one nearest 0.5)."""
    positives = int(gold.sum())
    if positives == 0:
        return DEFAULT
    order = np.argsort(-probabilities, kind="stable")
    ranked, hits = probabilities[order], np.cumsum(gold[order])
    taken = np.arange(1, len(ranked) + 1)
    f1 = 2 * hits / (taken + positives)
    # a cut is only possible between two different probabilities
    possible = np.r_[ranked[:-1] > ranked[1:], True]
    cuts = np.r_[(ranked[:-1] + ranked[1:]) / 2, ranked[-1] / 2]
    f1 = np.where(possible, f1, -1)
    best = np.flatnonzero(f1 == f1.max())
    return float(cuts[best[np.argmin(np.abs(cuts[best] - DEFAULT))]])


def tuned_thresholds(logits: np.ndarray, references: np.ndarray) -> np.ndarray:
    """One threshold per label, each maximising its F1 on these texts."""
    probabilities = sigmoid(logits)
    return np.array([best_threshold(probabilities[:, i], references[:, i]) for i in range(probabilities.shape[1])])


def write_thresholds(folder: str, names: list, values: np.ndarray, dev_scores: dict) -> None:
    write_json(OutputFolder(folder).thresholds, {
        "thresholds": {name: round(float(value), 6) for name, value in zip(names, values)},
        "tuned_on": "dev", "dev_scores": dev_scores,
    })


def saved_thresholds(folder: str | None, names: list) -> np.ndarray | None:
    """The thresholds a model folder was saved with, in the order of `names`, or None (0.5 for every label)."""
    path = OutputFolder(folder or "").thresholds
    if not folder or not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as stream:
            saved = json.load(stream)["thresholds"]
        values = np.array([float(saved[name]) for name in names])
    except (ValueError, KeyError, TypeError) as error:
        raise UserError(f"{path}: not thresholds for this model's labels ({type(error).__name__}: {error}); "
                        "tune them again with --tune_thresholds or delete the file") from None
    if not ((values > 0) & (values < 1)).all():
        raise UserError(f"{path}: every threshold must be between 0 and 1")
    return values
