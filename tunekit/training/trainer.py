"""transformers' Trainer following the run's speed plan: packed or bucketed training batches, evaluation in the
order it is given (length-sorted by the caller), parameter groups, the loss normaliser of packed steps."""

import logging
from functools import partial
from typing import Any, Optional

import datasets
import torch
from torch.utils.data import DataLoader, SequentialSampler
from transformers import Trainer
from transformers.trainer_utils import TrainOutput, has_length

from tunekit import compat

from tunekit.encoding.lengths import LENGTH_COLUMN, lengths_of
from tunekit.encoding.row_attributes import COLUMNS as ROW_COLUMNS
from tunekit.training.speed.buckets import LengthBucketSampler
from tunekit.training.speed.fold_clipping import clip_in_step, can_fold_clipping, inner_optimizer
from tunekit.training.objective import StepScale, TrainingObjective
from tunekit.training.optimization import describe_groups, parameter_groups
from tunekit.training.speed.packing import packer_for
from tunekit.training.speed.switch import SPEED_OFF
from tunekit.training.speed.used_rows import restore_embeddings, train_used_rows_only
from tunekit.training.whole_training import WholeTraining

logger = logging.getLogger("tunekit")


class TunekitTrainer(Trainer):
    """Trainer that follows the run's SpeedPlan (training/speed/switch.py) and its parameter groups; it decides
    nothing of its own. Without a plan it trains as Trainer does."""

    # The objective returns each batch's share of the optimizer step (objective.StepScale): Trainer divides no more.
    loss_is_scaled_for_ga = True

    def __init__(self, *args, speed=None, head_learning_rate=None, layerwise_lr_decay=None,
                 training_objective: Optional[TrainingObjective] = None, **kwargs):
        super().__init__(*args, **kwargs)
        # not "objective": Trainer's hyperparameter search keeps its trial score under that name
        self.training_objective: TrainingObjective = (training_objective if training_objective is not None
                                                      else TrainingObjective())
        self.speed = speed if speed is not None else SPEED_OFF
        self.head_learning_rate = head_learning_rate
        self.layerwise_lr_decay = layerwise_lr_decay
        self.packer = None  # the packing collator of the current training loader, if any
        self.whole = WholeTraining()
        self.add_callback(self.whole)

    def train(self, resume_from_checkpoint=None, *args, **kwargs) -> TrainOutput:
        """Trainer's train; its metrics' train_loss and train_runtime cover the whole training across resumes."""
        self.whole.start(resume_from_checkpoint if isinstance(resume_from_checkpoint, str) else None)
        try:
            output = super().train(resume_from_checkpoint, *args, **kwargs)
        finally:
            restore_embeddings(self.model)
        output.metrics.update(self.whole.figures(self.state.global_step))
        return output

    def training_step(self, model, inputs, num_items_in_batch=None) -> 'torch.Tensor':
        loss = super().training_step(model, inputs, num_items_in_batch)
        self.whole.add(loss)
        return loss

    def create_optimizer(self, model=None) -> 'torch.optim.Optimizer':
        """Trainer's optimizer (--optim and its settings) over our parameter groups, logged once."""
        if self.optimizer is not None:
            return self.optimizer
        model = self.model if model is None else model
        optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, model)
        if self.speed.used_embedding_rows.on and model is self.model:  # not a model handed in by a caller
            train_used_rows_only(model, self.train_dataset)
        groups = parameter_groups(
            model, set(self.get_decay_parameter_names(model)), self.args.learning_rate, self.args.weight_decay,
            self.head_learning_rate, self.layerwise_lr_decay,
        )
        logger.info("Optimizer parameter groups:\n%s", describe_groups(groups))
        if "params" in optimizer_kwargs or "model" in optimizer_kwargs:  # optimizers that pick their own groups
            return super().create_optimizer(model)
        self.optimizer = optimizer_cls([{k: v for k, v in g.items() if k not in ("names", "parts")} for g in groups], **optimizer_kwargs)
        return self.optimizer

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None) -> Any:
        """The run's objective (training/objective.py): in training the step's share of every term, in evaluation
        the gold loss as a mean over the batch."""
        scale = StepScale()
        if model.training:
            counted_over = self.accelerator.num_processes if self.args.average_tokens_across_devices else 1
            scale = StepScale(num_items_in_batch, compat.accumulation_steps(self),
                              counted_over if num_items_in_batch is not None else 1)
            loss, outputs = self.training_objective(model, self.accelerator.unwrap_model(model), inputs, scale,
                                           self.model_accepts_loss_kwargs, self.label_smoother)
        else:
            loss, outputs = self.training_objective.gold(model, self.accelerator.unwrap_model(model), inputs, scale,
                                                self.model_accepts_loss_kwargs, self.label_smoother)
        return (loss, outputs) if return_outputs else loss

    def _clip_grad_norm(self, model):
        """Clipping folded into the fused Adam/AdamW step (fold_clipping.py) where the plan says so; Trainer's
        otherwise (also when the optimizer turns out not to be fused: one handed in by a caller)."""
        optimizer = inner_optimizer(self.optimizer)
        if not (self.speed.fold_clipping.on and compat.grad_scaler(self.accelerator) is None and can_fold_clipping(optimizer)):
            return super()._clip_grad_norm(model)
        return clip_in_step(optimizer, model.parameters(), self.args.max_grad_norm)

    def floating_point_ops(self, inputs) -> int:
        """Trainer's count, with the model's parameter count (a walk over every parameter) taken once."""
        main_input = getattr(self.model, "main_input_name", "input_ids")
        model: Any = self.model
        if main_input not in inputs or not hasattr(model, "num_parameters"):
            return 0
        counted = getattr(self, "_counted_parameters", (None, 0))
        if counted[0] is not model:  # a hyperparameter search brings a new model per trial
            counted = self._counted_parameters = (model, model.num_parameters(exclude_embeddings=True))
        return 6 * inputs[main_input].numel() * counted[1]

    def get_batch_samples(self, epoch_iterator, num_batches, device) -> tuple:
        """Trainer's batches of one optimizer step, with what the objective's per-item losses divide by
        (TrainingObjective.items_in_step): a fixed normaliser per sequence (losses.py) counts the sequences this
        step really holds, fewer than a full step's in the last batch of an epoch or on data smaller than a batch."""
        batches, counted = super().get_batch_samples(epoch_iterator, num_batches, device)
        return batches, self.training_objective.items_in_step(batches, counted, self.sequences_in_batch, self.summed_over_processes)

    def sequences_in_batch(self, batch: dict) -> int:
        """The sentences a training batch holds (packed rows hold several)."""
        return self.packer.sequences_in(batch) if self.packer is not None else len(batch["input_ids"])

    def summed_over_processes(self, count: 'torch.Tensor') -> 'torch.Tensor':
        """A step's count summed over the processes, as Trainer counts its items."""
        if self.args.average_tokens_across_devices and self.args.world_size > 1:
            return self.accelerator.gather(count).sum()
        return count

    def get_train_dataloader(self) -> 'DataLoader':
        compat.keep_columns(self, ROW_COLUMNS, self.train_dataset)  # the objective takes them out of each batch
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
        dataset = compat.remove_unused_columns(self, self.train_dataset, "Training")
        args = self.args
        seed_worker = compat.seed_worker()
        loader = DataLoader(
            dataset,
            batch_sampler=sampler,
            collate_fn=self.data_collator,
            num_workers=args.dataloader_num_workers,
            pin_memory=args.dataloader_pin_memory,
            persistent_workers=args.dataloader_persistent_workers,
            multiprocessing_context=args.dataloader_multiprocessing_context,
            prefetch_factor=args.dataloader_prefetch_factor,
            worker_init_fn=partial(seed_worker, num_workers=args.dataloader_num_workers, rank=args.process_index) if seed_worker else None,
        )
        return self.accelerator.prepare(loader)

    def _packer(self):
        if not self.speed.packing.on:
            return None
        model = self.accelerator.unwrap_model(self.model)
        return packer_for(model, getattr(self.data_collator, "pad_to_multiple_of", None))

    def _bucket_batch_sampler(self):
        full = self.train_dataset
        if not (self.speed.length_buckets.on and isinstance(full, datasets.Dataset) and LENGTH_COLUMN in full.column_names):
            return None
        seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
        return LengthBucketSampler(
            lengths_of(full), compat.train_batch_size(self), seed, self.speed.bucket_batches, self.speed.equal_token_batches
        )

    def _get_eval_sampler(self, eval_dataset):
        # Never reorder evaluation (Trainer's group_by_length would shuffle it): callers sort and restore.
        if not self.speed.sorted_evaluation.on:
            return super()._get_eval_sampler(eval_dataset)
        if eval_dataset is None or not has_length(eval_dataset):
            return None
        return SequentialSampler(eval_dataset) if self.args.world_size <= 1 else None
