"""Evaluation in length order (each batch pads to nearly nothing), with every result put back in input order."""

from typing import Any, Callable

import numpy as np
from transformers import EvalPrediction

from tunekit.encoding.lengths import LENGTH_COLUMN, lengths_of


def sorted_by_length(dataset, enabled: bool = True) -> tuple:
    """(dataset in increasing length, the order used) so each inference batch pads to nearly nothing;
    datasets without a length column (or enabled=False) come back unchanged."""
    if not enabled or LENGTH_COLUMN not in getattr(dataset, "column_names", ()):
        return dataset, None
    order = np.argsort(lengths_of(dataset), kind="stable")
    return dataset.select(order), order


def in_input_order(values, order) -> Any:
    """Rows of `values` (predicted in `order`) put back in the dataset's own order."""
    if order is None or values is None:
        return values
    if isinstance(values, (tuple, list)):
        return type(values)(in_input_order(value, order) for value in values)
    restored = np.empty_like(values)
    restored[order] = values
    return restored


class ScoredInInputOrder:
    """compute_metrics for a length-sorted dataset: restores input order before the task's scorer sees it."""

    def __init__(self, scorer, order):
        self.scorer = scorer
        self.order = order

    def __call__(self, prediction):
        return self.scorer(
            EvalPrediction(
                predictions=in_input_order(prediction.predictions, self.order),
                label_ids=in_input_order(prediction.label_ids, self.order),
            )
        )


def in_order_scorer(scorer, order) -> 'Callable | None':
    """The scorer to use on a dataset predicted in `order`."""
    return ScoredInInputOrder(scorer, order) if scorer is not None and order is not None else scorer
