"""The training loss when the model's own is not enough: class weights, and a fixed per-step normaliser for
token classification with length-bucketed batches."""

import logging
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from tunekit.encoding import IGNORE_INDEX, PARTIAL_BASE
from tunekit.errors import UserError, at
from tunekit.training.objective import GoldLoss

logger = logging.getLogger("tunekit")


def label_counts(dataset, num_labels: int) -> 'np.ndarray':
    """How often each label id occurs in the `labels` column (token lists or single ids), IGNORE_INDEX not counted."""
    counts = np.zeros(num_labels, dtype=np.int64)
    for batch in dataset.iter(batch_size=4096):
        values = batch["labels"]
        flat = np.concatenate([np.asarray(v).ravel() for v in values]) if len(values) and np.ndim(values[0]) else np.asarray(values)
        flat = flat[flat >= 0].astype(np.int64)  # not IGNORE_INDEX, nor UNLABELLED words (--distill_text)
        counts += np.bincount(flat, minlength=num_labels)[:num_labels]
    return counts


def predicted_positions(dataset) -> int:
    """How many positions of the `labels` column are predicted: gold labels and UNLABELLED words alike."""
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
    step holds, so every token weighs the same whatever its batch); evaluation always reports the mean."""

    def __init__(self, weights=None, label_sets=None):
        self.weights = weights
        # --corpora: the label ids allowed where a partly annotated corpus says O (PARTIAL_BASE - k names set k)
        self.label_sets = label_sets or None

    def __call__(self, outputs, labels, num_items_in_batch=None):
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
        logits = logits.float().reshape(-1, logits.shape[-1])
        labels = labels.reshape(-1).to(logits.device)
        weights = self.weights.to(logits.device) if self.weights is not None else None
        partial = (labels <= PARTIAL_BASE) & (labels != IGNORE_INDEX)
        total = F.cross_entropy(logits, labels.masked_fill(partial, IGNORE_INDEX), weight=weights,
                                ignore_index=IGNORE_INDEX, reduction="sum")
        if self.label_sets is not None and bool(partial.any()):  # -log of the allowed labels' summed probability
            sets = torch.zeros(len(self.label_sets), logits.shape[-1], dtype=torch.bool, device=logits.device)
            for index, allowed_ids in enumerate(self.label_sets):
                sets[index, allowed_ids] = True
            allowed = sets[PARTIAL_BASE - labels[partial]]
            chosen = logits[partial]
            total = total + (chosen.logsumexp(-1) - chosen.masked_fill(~allowed, float("-inf")).logsumexp(-1)).sum()
        divisor = num_items_in_batch if num_items_in_batch is not None else (labels != IGNORE_INDEX).sum()
        return total / divisor


def loss_function(run_args, train_dataset, label2id: dict, token_normaliser: bool = False,
                  label_sets: 'list | None' = None,
                  own_loss: 'Callable[[torch.nn.Module], bool] | None' = None) -> GoldLoss:
    """The gold loss for this run: the model's own, unless class weights, a fixed normaliser or label sets need
    CrossEntropyLoss; own_loss(model) says a model keeps its own loss whatever (a CRF: its sentence likelihood).

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
    if weights is None and tokens_per_row is None and not label_sets:
        return GoldLoss()
    return GoldLoss(CrossEntropyLoss(weights, label_sets), tokens_per_row, own_loss or (lambda model: False))
