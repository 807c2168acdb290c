"""A run's training objective: one typed value that the trainer calls once per batch, made of terms.

The first term is the head's loss on the gold labels (`GoldLoss`, from the task's recipe); others join it with a
weight: a teacher's soft targets (training/distillation.py), a consistency or pair term a plug-in registers
(`register_term`, or "module:attribute" in --objective_terms). Every term returns its share of the optimizer step,
and `StepScale` is the one place that says how a batch's loss becomes that share (per labelled item of the step,
per batch, over accumulated batches and processes); the Trainer is told not to divide again.
"""

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Protocol

import torch

from tunekit.encoding import IGNORE_INDEX
from tunekit.encoding.row_attributes import RowAttributes
from tunekit.errors import UserError

# A Trainer compute_loss_func: (outputs, labels, num_items_in_batch=...) -> loss per item of the step
LossFunction = Callable[..., torch.Tensor]


@dataclass(frozen=True)
class StepScale:
    """How one batch's loss becomes its share of the optimizer step.

    items: the step's predicted items (labelled tokens or examples) over its batches and processes (Trainer's
    num_items_in_batch, or the gold loss's fixed count per sequence), None where nothing counted them;
    accumulation: the batches of this step; processes: how many processes `items` was counted over (a per-item
    loss is multiplied back by it, as Trainer does, because DDP averages the gradients of the processes)."""

    items: Optional[Any] = None
    accumulation: int = 1
    processes: int = 1

    def of_mean(self, loss: torch.Tensor) -> torch.Tensor:
        """A mean over this batch (examples, sequences) -> its share of the step."""
        return loss / self.accumulation

    def of_sum(self, total: torch.Tensor, batch_items: torch.Tensor) -> torch.Tensor:
        """A sum over this batch's predicted items -> per predicted item of the step."""
        if self.items is not None:
            return total / self.items * self.processes
        return total / batch_items.clamp_min(1) / self.accumulation


@dataclass(frozen=True)
class Batch:
    """One training batch as the terms see it: the model as Trainer calls it (call it again for another pass),
    the same model unwrapped (its parts, e.g. a CRF's marginals), the collated inputs with their labels (every
    predicted position, unlabelled rows' too), the gold pass's outputs, the step's scale and the rows' attributes."""

    model: torch.nn.Module
    head: torch.nn.Module
    inputs: dict
    outputs: Any
    scale: StepScale
    rows: RowAttributes = RowAttributes()

    @property
    def logits(self) -> torch.Tensor:
        outputs = self.outputs
        return outputs["logits"] if isinstance(outputs, dict) else outputs[1 if len(outputs) > 1 else 0]

    @property
    def model_inputs(self) -> dict:
        """The inputs without the labels: what a second pass of the model takes."""
        return without_labels(self.inputs)

    @property
    def attention_mask(self) -> torch.Tensor:
        return attention_mask_of(self.inputs)


def without_labels(inputs: dict) -> dict:
    """A batch's inputs without its labels: what a model takes when the loss is computed outside it."""
    return {key: value for key, value in inputs.items() if key != "labels"}


def attention_mask_of(inputs: dict) -> torch.Tensor:
    """The batch's attended positions (packed rows carry a 4-d mask: every position counts)."""
    mask = inputs.get("attention_mask")
    if mask is None or mask.dim() != 2:
        return torch.ones_like(inputs["input_ids"], dtype=torch.bool)
    return mask.bool()


class Term(Protocol):
    """A part of the objective: the batch's share of the optimizer step's loss, scaled by batch.scale."""

    def __call__(self, batch: Batch) -> torch.Tensor: ...


def no_row_inputs(rows: RowAttributes, labels: torch.Tensor) -> dict:
    """A model's own loss takes no row attributes: one that the batch sets cannot be honoured there."""
    if rows.weighted or rows.label_set is not None:
        raise UserError("this model computes its own loss, which cannot weigh rows or take partial labels")
    return {}


@dataclass(frozen=True)
class GoldLoss:
    """The head's loss on the gold labels: a Trainer compute_loss_func-style function that also takes the batch's
    row attributes (rows=, encoding/row_attributes.py), or the model's own loss (function None, or own_loss(model)
    true: a CRF's sentence likelihood, a search trial that tries one), which takes the row attributes as the model
    inputs row_inputs(rows, labels) makes of them.
    tokens_per_row: a fixed normaliser per sequence of the step (training/losses.py) instead of the counted items."""

    function: Optional[LossFunction] = None
    tokens_per_row: Optional[float] = None
    own_loss: Callable[[torch.nn.Module], bool] = field(default=lambda model: False)
    row_inputs: Callable[[RowAttributes, torch.Tensor], dict] = no_row_inputs

    def uses_own_loss(self, model: torch.nn.Module) -> bool:
        return self.function is None or self.own_loss(model)

    def __call__(self, model: torch.nn.Module, head: torch.nn.Module, inputs: dict, scale: StepScale,
                 items_to_model: bool, smoother: Optional[LossFunction] = None) -> tuple:
        """(the step's share of the gold loss, the model's outputs). items_to_model: the model takes
        num_items_in_batch and divides by it (Trainer's model_accepts_loss_kwargs). Unlabelled rows teach nothing
        here; a batch of only those has no gold loss (a mean over none would be 0/0)."""
        rows, inputs = RowAttributes.taken_from(inputs)
        labels = inputs.get("labels")
        if labels is not None and rows.unlabelled is not None:
            labels = rows.gold_labels(labels)
            inputs = {**inputs, "labels": labels} if bool((labels != IGNORE_INDEX).any()) else without_labels(inputs)
            labels = inputs.get("labels")
        if labels is None:
            return torch.zeros((), device=inputs["input_ids"].device), model(**inputs)
        own = self.uses_own_loss(head)
        function = smoother if own else self.function
        if function is not None:
            outputs = model(**without_labels(inputs))
            by_rows = {} if own else {"rows": rows}  # Trainer's label smoother knows no rows
            return function(outputs, labels, num_items_in_batch=scale.items, **by_rows) * scale.processes, outputs
        to_model = items_to_model and scale.items is not None
        outputs = model(**inputs, **self.row_inputs(rows, labels),
                        **({"num_items_in_batch": scale.items} if to_model else {}))
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs[0]
        return (loss * scale.processes if to_model else scale.of_mean(loss)), outputs


@dataclass(frozen=True)
class TrainingObjective:
    """The gold loss with its weight, and the weighted terms that join it."""

    gold: GoldLoss = field(default_factory=GoldLoss)
    gold_weight: float = 1.0
    terms: tuple = ()  # (weight, Term) pairs

    def with_term(self, weight: float, term: Term, gold_weight: Optional[float] = None) -> "TrainingObjective":
        """This objective and one more term; gold_weight replaces the gold loss's weight (distillation's 1 - w)."""
        return TrainingObjective(self.gold, self.gold_weight if gold_weight is None else gold_weight,
                                 self.terms + ((weight, term),))

    def items_in_step(self, batches: list, counted: Optional[Any], sequences: Callable[[dict], int],
                      gathered: Callable[[torch.Tensor], torch.Tensor]) -> Optional[Any]:
        """What the step's per-item losses divide by: the gold loss's fixed count per sequence where it has one
        (sequences(batch) counts a batch's), else the labelled items Trainer counted, or counted here where Trainer
        did not (a loss function on a model that does not take num_items_in_batch). None: every term is a mean
        over its batch. gathered sums a count over the processes, as Trainer does with its own."""
        if not batches or "input_ids" not in batches[0]:
            return counted
        device = batches[0]["input_ids"].device
        if self.gold.tokens_per_row is not None:
            count = torch.tensor(sum(sequences(batch) for batch in batches), dtype=torch.float32, device=device)
            return gathered(count) * self.gold.tokens_per_row
        if counted is None and self.gold.function is not None and "labels" in batches[0]:
            return gathered(sum((batch["labels"] != IGNORE_INDEX).sum() for batch in batches))
        return counted

    def __call__(self, model: torch.nn.Module, head: torch.nn.Module, inputs: dict, scale: StepScale,
                 items_to_model: bool, smoother: Optional[LossFunction] = None) -> tuple:
        """(the batch's share of the step's loss, the model's outputs)."""
        loss, outputs = self.gold(model, head, inputs, scale, items_to_model, smoother)
        if not self.terms:
            return loss, outputs
        rows, inputs = RowAttributes.taken_from(inputs)
        batch = Batch(model, head, inputs, outputs, scale, rows)
        total = self.gold_weight * loss
        for weight, term in self.terms:
            total = total + weight * term(batch)
        return total, outputs


# Terms plug-ins add by name: name -> "module:attribute" of a factory (settings) -> Term
TERMS: dict = {}


def register_term(name: str, where: str) -> None:
    """Make --objective_terms NAME[=WEIGHT] add the term that where ("module:attribute", a function of the run's
    settings returning a Term) builds."""
    TERMS[name] = where


def term_factory(name: str) -> Callable[[Any], Term]:
    """The factory of a registered name, or of a "module:attribute" path; one-line error otherwise."""
    where = TERMS.get(name, name)
    module_name, _, attribute = where.partition(":")
    if not attribute:
        known = ", ".join(sorted(TERMS)) or "none registered"
        raise UserError(f"--objective_terms {name}: not a registered term ({known}) nor a module:attribute path")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise UserError(f"--objective_terms {name}: cannot load {where} ({error})") from None


def parse_term(spec: str) -> tuple[str, float]:
    """NAME[=WEIGHT] -> (NAME, WEIGHT), weight 1 by default."""
    name, _, weight = spec.rpartition("=") if "=" in spec else (spec, "", "1")
    try:
        return name, float(weight)
    except ValueError:
        raise UserError(f"--objective_terms {spec}: the weight after '=' must be a number") from None


def objective_of(gold: Optional[GoldLoss], specs: list, settings: Any) -> TrainingObjective:
    """The run's objective before distillation: the gold loss and the --objective_terms terms."""
    objective = TrainingObjective(gold if gold is not None else GoldLoss())
    for spec in specs or []:
        name, weight = parse_term(spec)
        objective = objective.with_term(weight, term_factory(name)(settings))
    return objective
