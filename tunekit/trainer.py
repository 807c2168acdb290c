"""transformers' Trainer with the batch orders of batching.py: bucketed training batches, evaluation in the
order it is given (length-sorted by the caller) and results handed back in input order."""

import logging
from functools import partial

import datasets
import numpy as np
import torch
from torch.utils.data import DataLoader, SequentialSampler
from transformers import EvalPrediction, Trainer
from transformers.trainer_utils import has_length, seed_worker

from .batching import BUCKET_BATCHES, LENGTH_COLUMN, LengthBucketSampler, lengths_of
from .fused_clipping import clip_in_step, folds_clipping, inner_optimizer
from .optimization import describe_groups, parameter_groups
from .packing import packer_for, supports_packing
from .trained_rows import restore_embeddings, train_reachable_rows_only

logger = logging.getLogger("tunekit")


class TunekitTrainer(Trainer):
    def __init__(
        self, *args, length_bucketing=True, bucket_batches=BUCKET_BATCHES, equal_token_batches=False,
        pack_sequences=False, head_learning_rate=None, layerwise_lr_decay=None, reachable_rows_only=False,
        fold_clipping=False, **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.length_bucketing = length_bucketing
        self.pack_sequences = pack_sequences  # token classification: random batches packed into few rows
        self.bucket_batches = bucket_batches
        self.equal_token_batches = equal_token_batches  # token classification: the loss weighs tokens
        self.head_learning_rate = head_learning_rate
        self.layerwise_lr_decay = layerwise_lr_decay
        self.reachable_rows_only = reachable_rows_only  # train only the word-embedding rows the data reaches
        self.fold_clipping = fold_clipping  # clip inside a fused Adam/AdamW step
        self.packer = None  # the packing collator of the current training loader, if any

    def train(self, *args, **kwargs):
        try:
            return super().train(*args, **kwargs)
        finally:
            restore_embeddings(self.model)

    def create_optimizer(self, model=None):
        """Trainer's optimizer (--optim and its settings) over our parameter groups, logged once."""
        if self.optimizer is not None:
            return self.optimizer
        model = self.model if model is None else model
        optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, model)
        if self._leaves_unreached_rows_alone(optimizer_cls, model):
            train_reachable_rows_only(model, self.train_dataset)
        groups = parameter_groups(
            model, set(self.get_decay_parameter_names(model)), self.args.learning_rate, self.args.weight_decay,
            self.head_learning_rate, self.layerwise_lr_decay,
        )
        logger.info("Optimizer parameter groups:\n%s", describe_groups(groups))
        if "params" in optimizer_kwargs or "model" in optimizer_kwargs:  # optimizers that pick their own groups
            return super().create_optimizer(model)
        self.optimizer = optimizer_cls([{k: v for k, v in g.items() if k not in ("names", "parts")} for g in groups], **optimizer_kwargs)
        return self.optimizer

    def _leaves_unreached_rows_alone(self, optimizer_cls, model):
        # Adam/AdamW without weight decay move no row whose gradient was always zero; one process only (several
        # would broadcast the frozen matrix as a buffer), on the model Trainer itself trains
        return (
            self.reachable_rows_only and model is self.model and self.args.world_size == 1
            and issubclass(optimizer_cls, (torch.optim.Adam, torch.optim.AdamW)) and self.args.weight_decay == 0
        )

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

    def _clip_grad_norm(self, model):
        """Clipping folded into a fused Adam/AdamW step (fused_clipping.py) on one process; Trainer's otherwise."""
        optimizer = inner_optimizer(self.optimizer)
        one_process = self.args.world_size == 1 and self.accelerator.scaler is None
        if not (self.fold_clipping and one_process and folds_clipping(optimizer)):
            return super()._clip_grad_norm(model)
        return clip_in_step(optimizer, model.parameters(), self.args.max_grad_norm)

    def floating_point_ops(self, inputs):
        """Trainer's count, with the model's parameter count (a walk over every parameter) taken once."""
        main_input = getattr(self.model, "main_input_name", "input_ids")
        if main_input not in inputs or not hasattr(self.model, "num_parameters"):
            return 0
        counted = getattr(self, "_counted_parameters", (None, 0))
        if counted[0] is not self.model:  # a hyperparameter search brings a new model per trial
            counted = self._counted_parameters = (self.model, self.model.num_parameters(exclude_embeddings=True))
        return 6 * inputs[main_input].numel() * counted[1]

    def get_batch_samples(self, epoch_iterator, num_batches, device):
        """Trainer's batches of one optimizer step; a loss with a fixed normaliser per sequence (losses.py) gets
        its normaliser for the sequences this step really holds, which are fewer than a full step's in the last
        batch of an epoch or on data smaller than a batch."""
        batches, num_items = super().get_batch_samples(epoch_iterator, num_batches, device)
        per_sequence = getattr(self.compute_loss_func, "tokens_per_row", None)
        if per_sequence is None or not batches or "input_ids" not in batches[0]:
            return batches, num_items
        count = sum(
            self.packer.sequences_in(batch) if self.packer is not None else len(batch["input_ids"]) for batch in batches
        )
        sequences = torch.tensor(count, dtype=torch.float32, device=device)
        if self.args.average_tokens_across_devices and self.args.world_size > 1:  # as Trainer counts its items
            sequences = self.accelerator.gather(sequences).sum()
        return batches, sequences * per_sequence

    def get_train_dataloader(self):
        packer = self.packer = self._packer()
        if packer is not None:  # Trainer's random batches, through the packing collator
            collator, self.data_collator = self.data_collator, packer
            try:
                return super().get_train_dataloader()
            finally:
                self.data_collator = collator
        # Bucketed batches vary in rows, so they come from a batch sampler; Trainer's loader takes a plain one.
        sampler = self._bucket_batch_sampler()
        if sampler is None:
            return super().get_train_dataloader()
        dataset = self._remove_unused_columns(self.train_dataset, description="Training")
        args = self.args
        loader = DataLoader(
            dataset,
            batch_sampler=sampler,
            collate_fn=self.data_collator,
            num_workers=args.dataloader_num_workers,
            pin_memory=args.dataloader_pin_memory,
            persistent_workers=args.dataloader_persistent_workers,
            multiprocessing_context=args.dataloader_multiprocessing_context,
            prefetch_factor=args.dataloader_prefetch_factor,
            worker_init_fn=partial(seed_worker, num_workers=args.dataloader_num_workers, rank=args.process_index),
        )
        return self.accelerator.prepare(loader)

    def _packer(self):
        # --no_length_bucketing asks for the official batches: no packing either
        if not (self.pack_sequences and self.length_bucketing) or self.args.train_sampling_strategy != "random":
            return None
        model = self.accelerator.unwrap_model(self.model)
        if not supports_packing(model):
            logger.info("Training batches: length buckets (%s cannot take packed sentences)", type(model).__name__)
            return None
        logger.info("Training batches: random, each packed into rows as long as its longest sentence")
        return packer_for(model, getattr(self.data_collator, "pad_to_multiple_of", None))

    def _bucket_batch_sampler(self):
        full = self.train_dataset
        if not (
            self.length_bucketing
            and self.args.train_sampling_strategy == "random"
            and isinstance(full, datasets.Dataset)
            and LENGTH_COLUMN in full.column_names
        ):
            return None
        seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
        # _train_batch_size: the rows Trainer settled on (--auto_find_batch_size may have lowered it)
        return LengthBucketSampler(
            lengths_of(full), self._train_batch_size, seed, self.bucket_batches, self.equal_token_batches
        )

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
