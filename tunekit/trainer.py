"""transformers' Trainer with the batch orders of batching.py: bucketed training batches, evaluation in the
order it is given (length-sorted by the caller) and results handed back in input order."""

import numpy as np
from torch.utils.data import SequentialSampler
from transformers import EvalPrediction, Trainer
from transformers.trainer_utils import has_length

from .batching import LENGTH_COLUMN, LengthBucketSampler, lengths_of


class TunekitTrainer(Trainer):
    def __init__(self, *args, length_bucketing=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.length_bucketing = length_bucketing

    def _get_train_sampler(self, train_dataset=None):
        # Trainer passes the dataset after dropping unused columns, so the lengths come from the full one.
        full = self.train_dataset
        if (
            self.length_bucketing
            and self.args.train_sampling_strategy == "random"
            and has_length(full)
            and LENGTH_COLUMN in getattr(full, "column_names", ())
        ):
            seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
            return LengthBucketSampler(lengths_of(full), self.args.train_batch_size, seed)
        return super()._get_train_sampler(train_dataset)

    def _get_eval_sampler(self, eval_dataset):
        # Never reorder evaluation (Trainer's group_by_length would shuffle it): callers sort and restore.
        if eval_dataset is None or not has_length(eval_dataset):
            return None
        return SequentialSampler(eval_dataset) if self.args.world_size <= 1 else None


def sorted_by_length(dataset, enabled=True):
    """(dataset in increasing length, the order used) so each inference batch pads to nearly nothing;
    datasets without a length column (or enabled=False) come back unchanged."""
    if not enabled or LENGTH_COLUMN not in getattr(dataset, "column_names", ()):
        return dataset, None
    order = np.argsort(lengths_of(dataset), kind="stable")
    return dataset.select(order), order


def in_input_order(values, order):
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


def in_order_scorer(scorer, order):
    """The scorer to use on a dataset predicted in `order`."""
    return ScoredInInputOrder(scorer, order) if scorer is not None and order is not None else scorer
