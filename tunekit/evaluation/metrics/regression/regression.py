"""Regression scores as a local `evaluate` module: Pearson and Spearman correlation, mean squared error."""

import datasets
import evaluate
from scipy.stats import pearsonr, spearmanr


class Regression(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Pearson and Spearman correlation and mean squared error (GLUE STS-B).",
            citation="Virtanen et al., SciPy 1.0, Nature Methods 17, 2020.",
            inputs_description="predictions and references: real numbers.",
            features=datasets.Features({"predictions": datasets.Value("float64"), "references": datasets.Value("float64")}),
        )

    def _compute(self, predictions, references):
        pearson = float(pearsonr(references, predictions)[0])
        spearman = float(spearmanr(references, predictions)[0])
        mse = sum((p - r) ** 2 for p, r in zip(predictions, references)) / len(references)
        return {"pearson": pearson, "spearmanr": spearman, "combined_score": (pearson + spearman) / 2, "mse": float(mse)}
