"""transformers' Trainer with the batch orders of batching.py: bucketed training batches, evaluation in the
order it is given (length-sorted by the caller) and results handed back in input order."""

import logging

import numpy as np
from torch.utils.data import SequentialSampler
from transformers import EvalPrediction, Trainer
from transformers.trainer_utils import has_length

from .batching import LENGTH_COLUMN, LengthBucketSampler, lengths_of
from .optimization import describe_groups, parameter_groups

logger = logging.getLogger("tunekit")


class TunekitTrainer(Trainer):
    def __init__(self, *args, length_bucketing=True, head_learning_rate=None, layerwise_lr_decay=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.length_bucketing = length_bucketing
        self.head_learning_rate = head_learning_rate
        self.layerwise_lr_decay = layerwise_lr_decay

    def create_optimizer(self, model=None):
        """Trainer's optimizer (--optim and its settings) over our parameter groups, logged once."""
        if self.optimizer is not None:
            return self.optimizer
        model = self.model if model is None else model
        groups = parameter_groups(
            model, set(self.get_decay_parameter_names(model)), self.args.learning_rate, self.args.weight_decay,
            self.head_learning_rate, self.layerwise_lr_decay,
        )
        logger.info("Optimizer parameter groups:\n%s", describe_groups(groups))
        optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, model)
        if "params" in optimizer_kwargs or "model" in optimizer_kwargs:  # optimizers that pick their own groups
            return super().create_optimizer(model)
        self.optimizer = optimizer_cls([{k: v for k, v in g.items() if k not in ("names", "parts")} for g in groups], **optimizer_kwargs)
        return self.optimizer

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        # A model with its own loss (the CRF) keeps it even when compute_loss_func is set for other trials of
        # a search; Trainer then skips its division by the accumulation steps, so it is done here.
        if self.compute_loss_func is not None and getattr(self.accelerator.unwrap_model(model), "computes_own_loss", False):
            loss_func, self.compute_loss_func = self.compute_loss_func, None
            try:
                result = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            finally:
                self.compute_loss_func = loss_func
            loss = result[0] if return_outputs else result
            if model.training:
                loss = loss / self.current_gradient_accumulation_steps
            return (loss, result[1]) if return_outputs else loss
        return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)

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
