"""The one place that switches the speed path on: each technique decided from the model, the settled arguments,
the data and the hardware, logged as one line (on or off, and why), then applied.

Precision and attention are settled earlier, with the arguments (config/resolve.py), because the model is
loaded with them; their lines are logged here with the rest. Every technique gives the updates of Trainer's
own training step, only computed faster, so turning one off changes the time, never the result (except
packing and length buckets, which change which rows share a batch: see docs/speed.md).
"""

import dataclasses
import logging
from typing import Any, cast

import datasets
import torch
from transformers import Trainer

from tunekit import compat
from tunekit.encoding.lengths import LENGTH_COLUMN
from tunekit.training.speed.fast_dropout import use_fast_dropout
from tunekit.config.hardware import has_accelerator
from tunekit.training.speed.packing import supports_packing
from tunekit.config.precision import precision_name
from tunekit.training.speed.precision import keep_head_in_fp32

logger = logging.getLogger("tunekit")


@dataclasses.dataclass(frozen=True)
class Choice:
    on: bool
    why: str


ON_ORDER = ("precision", "attention", "packing", "length_buckets", "token_normaliser", "sorted_evaluation",
            "fast_dropout", "used_embedding_rows", "fold_clipping", "fp32_head")


@dataclasses.dataclass(frozen=True)
class SpeedSupport:
    """Which techniques fit a task's labels: batches of equal token counts, packing several examples into a row
    (labels per token, attention kept apart) and the per-token loss normaliser (a loss summed over tokens); for
    each of the last two, why it does not fit ("" where it does)."""

    equal_token_batches: bool
    no_packing: str = ""
    no_token_normaliser: str = ""


@dataclasses.dataclass(frozen=True)
class SpeedPlan:
    """What this run's Trainer and model use; the Trainer reads it and decides nothing of its own."""

    precision: Choice
    attention: Choice
    packing: Choice
    length_buckets: Choice
    sorted_evaluation: Choice
    fast_dropout: Choice
    used_embedding_rows: Choice
    fold_clipping: Choice
    fp32_head: Choice
    token_normaliser: Choice = Choice(False, "Trainer's own")
    bucket_batches: int = 4
    equal_token_batches: bool = False  # token classification: bucket cuts at equal shares of tokens

    def lines(self) -> list[str]:
        return [f"{name.replace('_', ' ')}: {'on' if getattr(self, name).on else 'off'} ({getattr(self, name).why})"
                for name in ON_ORDER]

    def for_search_trials(self) -> "SpeedPlan":
        """The plan of hyperparameter-search trials: a trial may draw weight decay, which moves unused rows."""
        return dataclasses.replace(self, used_embedding_rows=Choice(False, "search trials may use weight decay"))


def _first_off(*conditions: tuple[bool, str]) -> Choice | None:
    """Choice(False, why) for the first condition that holds, None when none does."""
    return next((Choice(False, why) for holds, why in conditions if holds), None)


def plan_speed(
    model: torch.nn.Module, run_args, training_args, train_dataset, support: SpeedSupport, why_precision: str = "",
    why_attention: str = "",
) -> SpeedPlan:
    """Decide every technique for this run from the model, the settled run and training arguments, the encoded
    training data and the hardware; why_precision / why_attention say how the settled values were chosen."""
    on_gpu = has_accelerator()
    training = training_args.do_train
    one_process = training_args.world_size == 1
    random_order = training_args.train_sampling_strategy == "random"
    buckets_wanted = run_args.length_bucketing
    streamed = train_dataset is not None and not isinstance(train_dataset, datasets.Dataset)
    lengths_known = isinstance(train_dataset, datasets.Dataset) and LENGTH_COLUMN in train_dataset.column_names

    packing = _first_off(
        (not training, "not training"),
        (bool(support.no_packing), support.no_packing),
        (not buckets_wanted, "--no_length_bucketing"),
        (not run_args.pack_sequences, "--no_pack_sequences"),
        (not random_order, f"--train_sampling_strategy {training_args.train_sampling_strategy}"),
        (on_gpu, "on GPUs a per-sentence 4D mask takes the attention kernels off their fast path; length buckets instead"),
        (not compat.available("attention"), "the model's attention implementation cannot be read"),
        (streamed, "streamed training data"),
    ) or (Choice(True, "BERT-style attention checked on the model") if supports_packing(model)
          else Choice(False, f"{type(model).__name__} cannot take packed sentences (checked); length buckets instead"))
    length_buckets = _first_off(
        (not training, "not training"),
        (packing.on, "packing takes its place"),
        (not buckets_wanted, "--no_length_bucketing"),
        (not random_order, f"--train_sampling_strategy {training_args.train_sampling_strategy}"),
        (not lengths_known, "streamed training data has no length column"),
        (not compat.available("length_buckets"), "Trainer's loader internals changed"),
    ) or Choice(True, f"{run_args.length_bucket_batches} batches per sorted bucket")
    sorted_evaluation = _first_off(
        (not buckets_wanted, "--no_length_bucketing"),
        (not compat.available("sorted_evaluation"), "Trainer's evaluation sampler changed"),
    ) or Choice(True, "length order, results in input order")
    fast_dropout = _first_off(
        (not training, "not training"),
        (not run_args.fast_dropout, "--no_fast_dropout"),
        (on_gpu or training_args.device.type != "cpu", "CPU only: GPU dropout kernels are fast already"),
    ) or Choice(True, "cheap masks from 64-bit random numbers")
    optimizer_class, optimizer_kwargs = Trainer.get_optimizer_cls_and_kwargs(training_args, cast(Any, model))
    adam = issubclass(optimizer_class, (torch.optim.Adam, torch.optim.AdamW)) if isinstance(optimizer_class, type) else False
    used_rows = _first_off(
        (not training, "not training"),
        (not run_args.skip_unused_embedding_rows, "--no_skip_unused_embedding_rows"),
        (not one_process, "several processes"),
        (not adam, f"--optim {training_args.optim} may move rows without gradient"),
        (training_args.weight_decay != 0, "weight decay moves rows without gradient"),
    ) or Choice(True, "only the word-embedding rows the training data uses")
    fold_clipping = _first_off(
        (not training, "not training"),
        (not run_args.fold_clipping, "--no_fold_clipping"),
        (training_args.max_grad_norm is None or training_args.max_grad_norm <= 0, "no clipping asked"),
        (not one_process, "several processes"),
        (training_args.fp16, "fp16's grad scaler uses the same hook"),
        (not (adam and optimizer_kwargs.get("fused")), f"--optim {training_args.optim} is not a fused Adam/AdamW"),
        (not compat.available("fold_clipping"), "the fused Adam step's hook changed"),
    ) or Choice(True, "inside the fused AdamW step")
    token_normaliser = _first_off(
        (bool(support.no_token_normaliser), support.no_token_normaliser),
        (not buckets_wanted, "--no_length_bucketing: each batch's own mean, as Trainer"),
    ) or Choice(True, "every token weighs the same whatever its batch")
    mixed = training_args.bf16 or training_args.fp16
    return SpeedPlan(
        precision=Choice(mixed, ", ".join(filter(None, (precision_name(training_args), why_precision)))),
        attention=Choice(True, ", ".join(filter(None, (str(compat.attention_of(model.config)), why_attention)))),
        packing=packing,
        length_buckets=length_buckets,
        sorted_evaluation=sorted_evaluation,
        fast_dropout=fast_dropout,
        used_embedding_rows=used_rows,
        fold_clipping=fold_clipping,
        fp32_head=Choice(True, "mixed precision") if mixed else Choice(False, "fp32 already"),
        token_normaliser=token_normaliser,
        bucket_batches=run_args.length_bucket_batches,
        equal_token_batches=support.equal_token_batches,
    )


OFF = Choice(False, "Trainer's own")
# Trainer's own behaviour: what a TunekitTrainer built without a plan does.
SPEED_OFF = SpeedPlan(OFF, OFF, OFF, OFF, OFF, OFF, OFF, OFF, OFF)


def log_plan(plan: SpeedPlan) -> None:
    logger.info("Speed path:\n%s", "\n".join(f"  {line}" for line in plan.lines()))


def apply_to_model(plan: SpeedPlan, model: torch.nn.Module) -> torch.nn.Module:
    """The model-level techniques: the fast dropout layers and the fp32 head (each model of a search too)."""
    if plan.fast_dropout.on:
        logger.info("Fast dropout: %d dropout layers swapped", use_fast_dropout(model))
    if plan.fp32_head.on:
        keep_head_in_fp32(model)
    return model
