"""The training loss when the model's own is not enough: class weights, and a fixed per-step normaliser for
token classification with length-bucketed batches."""

import logging
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F

from tunekit.encoding import IGNORE_INDEX
from tunekit.encoding.row_attributes import ROW_WEIGHT, UNLABELLED, LabelSets, RowAttributes
from tunekit.errors import UserError, at
from tunekit.training.objective import GoldLoss, no_row_inputs

logger = logging.getLogger("tunekit")


def label_counts(dataset, num_labels: int) -> 'np.ndarray':
    """How often each label id occurs in the `labels` column (token lists or single ids), IGNORE_INDEX not counted."""
    counts = np.zeros(num_labels, dtype=np.int64)
    for batch in dataset.iter(batch_size=4096):
        values = batch["labels"]
        if UNLABELLED in batch:  # rows without gold (--distill_text) mark positions, not labels
            values = [value for value, unlabelled in zip(values, batch[UNLABELLED]) if not unlabelled]
        flat = np.concatenate([np.asarray(v).ravel() for v in values]) if len(values) and np.ndim(values[0]) else np.asarray(values)
        flat = flat[flat >= 0].astype(np.int64)  # not IGNORE_INDEX
        counts += np.bincount(flat, minlength=num_labels)[:num_labels]
    return counts


def predicted_positions(dataset) -> int:
    """How many positions of the `labels` column are predicted: gold labels and unlabelled rows' words alike."""
    return sum(int((np.asarray(labels) != IGNORE_INDEX).sum()) for batch in dataset.iter(batch_size=4096)
               for labels in batch["labels"])


def balanced_weights(counts) -> 'np.ndarray':
    """n / (classes x count_c), as scikit-learn's 'balanced'; a class absent from training gets weight 1."""
    counts = np.asarray(counts, dtype=np.float64)
    weights = counts.sum() / (len(counts) * np.maximum(counts, 1))
    weights[counts == 0] = 1.0
    return weights


def read_weight_file(path: str, label2id: dict) -> 'np.ndarray':
    """`label weight` per line (tab or spaces); labels not listed weigh 1."""
    weights = np.ones(len(label2id))
    try:
        stream = open(path, encoding="utf-8-sig")
    except OSError as error:
        raise UserError(f"{path}: cannot read the class weight file ({error.strerror})") from None
    with stream:
        for number, line in enumerate(stream, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.rsplit(None, 1)
            if len(parts) != 2:
                raise UserError(at(path, number, "expected `label weight`"))
            label, value = parts[0].strip(), parts[1]
            if label not in label2id:
                raise UserError(at(path, number, f"unknown label '{label}' (labels: {', '.join(label2id)})"))
            try:
                weights[label2id[label]] = float(value)
            except ValueError:
                raise UserError(at(path, number, f"'{value}' is not a number")) from None
            if not weights[label2id[label]] >= 0:
                raise UserError(at(path, number, "weights must be zero or more"))
    return weights


def class_weights(choice: str | None, train_dataset, label2id: dict) -> 'torch.Tensor | None':
    """--class_weights balanced | FILE -> a weight per label id (logged), or None."""
    if choice is None:
        return None
    if choice == "balanced":
        if train_dataset is None:
            raise UserError("--class_weights balanced needs training data to count the labels")
        weights = balanced_weights(label_counts(train_dataset, len(label2id)))
    else:
        weights = read_weight_file(choice, label2id)
    logger.info("Class weights: %s", ", ".join(f"{label} {weights[i]:.3g}" for label, i in label2id.items()))
    return torch.tensor(weights, dtype=torch.float32)


class CrossEntropyLoss:
    """A gold loss function (objective.GoldLoss): cross-entropy over the labelled items (tokens or examples) with
    optional class weights, divided by the items of the optimizer step (objective.TrainingObjective.items_in_step:
    the labelled items over accumulation steps and processes, or the fixed count per sequence x the sequences the
    step holds, so every token weighs the same whatever its batch); evaluation always reports the mean.
    The batch's row attributes: where a row's label set leaves O open (--corpora), -log of the summed probability
    of the allowed labels; each item's loss times its row's weight."""

    def __init__(self, weights=None, label_sets: Optional[LabelSets] = None):
        self.weights = weights
        self.label_sets = label_sets

    def __call__(self, outputs, labels, num_items_in_batch=None, rows: RowAttributes = RowAttributes()):
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
        logits = logits.float().reshape(-1, logits.shape[-1])
        labels = labels.to(logits.device)
        weights = self.weights.to(logits.device) if self.weights is not None else None
        rows_weight, open_positions = rows.weights_of(labels), rows.open_positions(labels, self.label_sets)
        flat = labels.reshape(-1)
        gold = flat.masked_fill(open_positions.reshape(-1), IGNORE_INDEX) if open_positions is not None else flat
        if rows_weight is None:
            total = F.cross_entropy(logits, gold, weight=weights, ignore_index=IGNORE_INDEX, reduction="sum")
        else:
            each = F.cross_entropy(logits, gold, weight=weights, ignore_index=IGNORE_INDEX, reduction="none")
            total = (each * rows_weight.reshape(-1)).sum()
        if open_positions is not None and self.label_sets is not None:  # -log of the allowed labels' summed probability
            partial = open_positions.reshape(-1)
            allowed = self.label_sets.open_labels(open_positions, rows.label_set_of(labels))
            chosen = logits[partial]
            each = chosen.logsumexp(-1) - chosen.masked_fill(~allowed, float("-inf")).logsumexp(-1)
            total = total + (each * rows_weight.reshape(-1)[partial] if rows_weight is not None else each).sum()
        divisor = num_items_in_batch if num_items_in_batch is not None else (flat != IGNORE_INDEX).sum()
        return total / divisor


class BinaryCrossEntropyLoss:
    """Multi-label classification's loss as the model computes it (the mean binary cross-entropy over every label
    of every example), with each example's terms times its row's weight."""

    def __call__(self, outputs, labels, num_items_in_batch=None, rows: RowAttributes = RowAttributes()):
        logits = (outputs["logits"] if isinstance(outputs, dict) else outputs[0]).float()
        labels = labels.to(logits.device).float()
        each = F.binary_cross_entropy_with_logits(logits, labels, reduction="none")
        weights = rows.weights_of(labels)
        total = (each * weights if weights is not None else each).sum()
        return total / (num_items_in_batch if num_items_in_batch is not None else labels.numel())


class SquaredErrorLoss:
    """Regression's loss as the model computes it (the mean squared error), each example's times its row's weight."""

    def __call__(self, outputs, labels, num_items_in_batch=None, rows: RowAttributes = RowAttributes()):
        logits = (outputs["logits"] if isinstance(outputs, dict) else outputs[0]).float().reshape(-1)
        labels = labels.to(logits.device).float().reshape(-1)
        each = (logits - labels) ** 2
        weights = rows.weights_of(labels)
        total = (each * weights if weights is not None else each).sum()
        return total / (num_items_in_batch if num_items_in_batch is not None else labels.numel())


def loss_function(run_args, train_dataset, label2id: dict, token_normaliser: bool = False,
                  label_sets: Optional[LabelSets] = None,
                  own_loss: 'Callable[[torch.nn.Module], bool] | None' = None,
                  row_inputs: Optional[Callable] = None, item_loss: Callable = CrossEntropyLoss) -> GoldLoss:
    """The gold loss for this run: the model's own, unless class weights, a fixed normaliser, label sets or row
    weights need a function of ours (item_loss: the task's per-item loss; CrossEntropyLoss takes the first three);
    own_loss(model) says a model keeps its own loss whatever (a CRF: its sentence likelihood), and row_inputs what
    that loss takes of the row attributes (objective.GoldLoss).

    label_sets: --corpora's sets of labels allowed where a partly annotated corpus says O (the model's own loss
    cannot read them). token_normaliser (the speed plan's choice, for token classification on packed or bucketed batches): batches
    hold about equal tokens (buckets.bucketed_batches),
    but not exactly, and labelled tokens are words, not pieces; dividing each batch by its own count would weigh
    a token in a sparser batch more than one in a denser batch. Dividing by the average count per step weighs
    every token the same, as random batches do on average (with 32-row buckets, where a batch of short
    sentences held a few tokens, this mattered: see docs/speed.md).
    """
    weights = class_weights(run_args.class_weights, train_dataset, label2id)
    tokens_per_row = None
    if token_normaliser and train_dataset is not None and hasattr(train_dataset, "__len__"):
        tokens_per_row = predicted_positions(train_dataset) / max(len(train_dataset), 1)
    row_weights = ROW_WEIGHT in (getattr(train_dataset, "column_names", None) or ())
    function = None
    if weights is not None or tokens_per_row is not None or label_sets or row_weights:
        function = CrossEntropyLoss(weights, label_sets) if item_loss is CrossEntropyLoss else item_loss()
    return GoldLoss(function, tokens_per_row, own_loss or (lambda model: False), row_inputs or no_row_inputs)
