"""What a head's outputs teach a student, and how a student of that head learns them (--distill_from): per-token
distributions, a CRF's marginals, class distributions, label probabilities, values. The task says which one a
model of its has (`Task.soft_targets`); training/distillation.py composes them into the objective.

A teacher's targets are softened by a temperature T (probabilities of z / T). The student matches them with a KL
divergence multiplied by T^2 (Hinton et al.: the gradients keep their size whatever T), normalised as its gold
loss is: per predicted token of the step for a tagger, per sequence for a CRF, per example for classifiers.
"""

from typing import Protocol, cast

import torch
import torch.nn.functional as F

from tunekit.encoding import IGNORE_INDEX
from tunekit.modeling.taggers.modeling_crf import CrfForTokenClassification
from tunekit.training.objective import Batch, attention_mask_of, without_labels


class SoftTargets(Protocol):
    """A head's soft targets: `targets` on the teacher's side (no gradients), `loss` on the student's."""

    labelled: bool  # the outputs are per label (a teacher's labels are matched to the student's), not values

    def targets(self, model: torch.nn.Module, inputs: dict, temperature: float) -> torch.Tensor: ...

    def loss(self, batch: Batch, targets: torch.Tensor, temperature: float) -> torch.Tensor: ...


def logits_of(model: torch.nn.Module, inputs: dict) -> torch.Tensor:
    return model(**without_labels(inputs)).logits.float()


def divergence(targets: torch.Tensor, log_student: torch.Tensor) -> torch.Tensor:
    """KL(targets || student) per item (the last axis is the distribution)."""
    return (targets * (torch.log(targets.clamp_min(1e-12)) - log_student)).sum(-1)


def predicted_tokens_divergence(batch: Batch, targets: torch.Tensor, log_student: torch.Tensor,
                                temperature: float) -> tuple:
    """(the KL summed over the batch's predicted tokens, times T^2; which tokens those are)."""
    predicted = batch.inputs["labels"] != IGNORE_INDEX
    return divergence(targets, log_student)[predicted].sum() * temperature ** 2, predicted


class TokenDistributions:
    """A softmax tagger: a distribution over the labels per token, learned per predicted token (gold and
    unlabelled words alike)."""

    labelled = True

    def targets(self, model: torch.nn.Module, inputs: dict, temperature: float) -> torch.Tensor:
        return torch.softmax(logits_of(model, inputs) / temperature, dim=-1)

    def loss(self, batch: Batch, targets: torch.Tensor, temperature: float) -> torch.Tensor:
        log_student = F.log_softmax(batch.logits.float() / temperature, dim=-1)
        total, predicted = predicted_tokens_divergence(batch, targets, log_student, temperature)
        return batch.scale.of_sum(total, predicted.sum())


class CrfMarginals:
    """A CRF tagger: each token's marginals under the CRF (forward-backward over emissions and transitions, all
    divided by T), or a teacher's emission softmax (--distill_crf_targets emissions). A CRF student learns its own
    marginals, per sequence as its gold loss is a mean over sequences."""

    labelled = True

    def __init__(self, teacher_reads: str = "marginals"):
        self.teacher_reads = teacher_reads

    def targets(self, model: torch.nn.Module, inputs: dict, temperature: float) -> torch.Tensor:
        crf_model = cast(CrfForTokenClassification, model)  # the task chose these targets for a CRF
        emissions = logits_of(crf_model.tagger, inputs)
        if self.teacher_reads == "marginals":
            return crf_model.crf.log_marginals(emissions, attention_mask_of(inputs), temperature).exp()
        return torch.softmax(emissions / temperature, dim=-1)

    def loss(self, batch: Batch, targets: torch.Tensor, temperature: float) -> torch.Tensor:
        head = cast(CrfForTokenClassification, batch.head)
        # in training the CRF returns its emissions as logits
        log_student = head.crf.log_marginals(batch.logits.float(), batch.attention_mask, temperature)
        total, predicted = predicted_tokens_divergence(batch, targets, log_student, temperature)
        return batch.scale.of_mean(total / predicted.shape[0])


class ClassDistributions:
    """A single-label classifier: a distribution over the classes per example."""

    labelled = True

    def targets(self, model: torch.nn.Module, inputs: dict, temperature: float) -> torch.Tensor:
        return torch.softmax(logits_of(model, inputs) / temperature, dim=-1)

    def loss(self, batch: Batch, targets: torch.Tensor, temperature: float) -> torch.Tensor:
        log_student = F.log_softmax(batch.logits.float() / temperature, dim=-1)
        return batch.scale.of_mean(divergence(targets, log_student).mean() * temperature ** 2)


class LabelProbabilities:
    """A multi-label classifier: each label's sigmoid, learned with a binary cross-entropy."""

    labelled = True

    def targets(self, model: torch.nn.Module, inputs: dict, temperature: float) -> torch.Tensor:
        return torch.sigmoid(logits_of(model, inputs) / temperature)

    def loss(self, batch: Batch, targets: torch.Tensor, temperature: float) -> torch.Tensor:
        loss = F.binary_cross_entropy_with_logits(batch.logits.float() / temperature, targets) * temperature ** 2
        return batch.scale.of_mean(loss)


class Values:
    """A regression head: the teacher's values, learned with a squared error (no temperature)."""

    labelled = False

    def targets(self, model: torch.nn.Module, inputs: dict, temperature: float) -> torch.Tensor:
        return logits_of(model, inputs)

    def loss(self, batch: Batch, targets: torch.Tensor, temperature: float) -> torch.Tensor:
        return batch.scale.of_mean(F.mse_loss(batch.logits.float().reshape(targets.shape), targets))
