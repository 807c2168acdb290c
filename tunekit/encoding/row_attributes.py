"""What a training row carries beside its model inputs and labels: named columns, never markers in label values.

- `label_set`: which of the run's label sets (`LabelSets`, from --corpora) the row may be taught where its gold
  says O: a corpus that does not annotate every type leaves those types open there. -1: the gold as it is.
- `unlabelled`: 1 for a row without gold labels (--distill_text): its labels only say which positions the model
  predicts, and only a teacher's soft targets teach from it.
- `row_weight`: how much the row's gold loss counts (1 by default; a row a later audit suspects of a labelling
  mistake can count less). It scales the gold term only: a teacher's soft targets do not read the row's labels.

A column is present only where something sets it; a batch's `RowAttributes` are taken out of the collated inputs
before the model sees them (the trainer keeps the columns in its training data: compat.keep_columns). Packed
batches (training/speed/packing.py) carry them per position, as their rows hold several sentences.
"""

from dataclasses import dataclass
from typing import Optional, Sequence

import datasets
import torch

from tunekit.encoding import IGNORE_INDEX

LABEL_SET = "label_set"
UNLABELLED = "unlabelled"
ROW_WEIGHT = "row_weight"
DEFAULTS = {LABEL_SET: -1, UNLABELLED: 0, ROW_WEIGHT: 1.0}
COLUMNS = tuple(DEFAULTS)


@dataclass(frozen=True)
class LabelSets:
    """The run's sets of label ids allowed where a partly annotated corpus says O (`outside`, the id of O), over
    `count` labels."""

    outside: int
    sets: tuple
    count: int

    def open_positions(self, labels: torch.Tensor, label_set: torch.Tensor) -> Optional[torch.Tensor]:
        """Where a row's set leaves the gold open (its gold is O), as a boolean of labels' shape; None: nowhere."""
        where = (labels == self.outside) & (label_set >= 0)
        return where if bool(where.any()) else None

    def open_labels(self, where: torch.Tensor, label_set: torch.Tensor) -> torch.Tensor:
        """The labels allowed at each open position (`where`, from open_positions), a boolean (open positions,
        count)."""
        table = torch.zeros(len(self.sets), self.count, dtype=torch.bool, device=where.device)
        for index, ids in enumerate(self.sets):
            table[index, list(ids)] = True
        return table[label_set[where]]

    def allowed(self, labels: torch.Tensor, label_set: torch.Tensor) -> Optional[torch.Tensor]:
        """A boolean (..., count) of the labels each position may be taught: its gold, or the row's set where the
        gold is O; None where no position of the batch is open."""
        where = self.open_positions(labels, label_set)
        if where is None:
            return None
        allowed = torch.nn.functional.one_hot(labels.clamp(min=0), self.count).bool()
        allowed[where] = self.open_labels(where, label_set)
        return allowed


@dataclass(frozen=True)
class RowAttributes:
    """A batch's row attributes: each a tensor per row (B), or per position (B, T) for packed rows; None where the
    run sets none."""

    label_set: Optional[torch.Tensor] = None
    unlabelled: Optional[torch.Tensor] = None
    weight: Optional[torch.Tensor] = None

    @classmethod
    def taken_from(cls, inputs: dict) -> tuple["RowAttributes", dict]:
        """(the batch's row attributes, its inputs without them)."""
        if not any(name in inputs for name in COLUMNS):
            return cls(), inputs
        rest = {key: value for key, value in inputs.items() if key not in COLUMNS}
        return cls(inputs.get(LABEL_SET), inputs.get(UNLABELLED), inputs.get(ROW_WEIGHT)), rest

    @property
    def weighted(self) -> bool:
        return self.weight is not None and bool((self.weight != 1).any())

    def gold_labels(self, labels: torch.Tensor) -> torch.Tensor:
        """The labels with those of unlabelled rows hidden (IGNORE_INDEX): what the gold loss may read."""
        if self.unlabelled is None or not bool(self.unlabelled.any()):
            return labels
        return labels.masked_fill(per_position(self.unlabelled, labels).bool(), IGNORE_INDEX)

    def weights_of(self, labels: torch.Tensor) -> Optional[torch.Tensor]:
        """Each position's weight (labels' shape), or None where every row weighs 1."""
        return per_position(self.weight, labels).to(torch.float32) if self.weighted else None

    def label_set_of(self, labels: torch.Tensor) -> torch.Tensor:
        return per_position(self.label_set, labels, default=-1)

    def open_positions(self, labels: torch.Tensor, sets: Optional[LabelSets]) -> Optional[torch.Tensor]:
        """LabelSets.open_positions for this batch (None without sets or label_set column)."""
        if sets is None or self.label_set is None:
            return None
        return sets.open_positions(labels, self.label_set_of(labels))

    def allowed(self, labels: torch.Tensor, sets: Optional[LabelSets]) -> Optional[torch.Tensor]:
        """LabelSets.allowed for this batch, or None where it has no open positions."""
        if sets is None or self.label_set is None:
            return None
        return sets.allowed(labels, self.label_set_of(labels))


def per_position(values: Optional[torch.Tensor], labels: torch.Tensor, default: float = 0) -> torch.Tensor:
    """A row attribute spread over its row's positions (labels' shape); packed batches carry it so already."""
    values = values.to(labels.device) if values is not None else torch.full((), default, device=labels.device)
    while values.dim() < labels.dim():
        values = values.unsqueeze(-1)
    return values.expand_as(labels)


def with_row_attribute(rows, name: str, values: Sequence) -> 'datasets.Dataset':
    """The encoded rows with one attribute column set (replaced where it is there)."""
    if name in rows.column_names:
        rows = rows.remove_columns(name)
    return rows.add_column(name, list(values))


def with_default_attributes(rows, names: Sequence[str]) -> 'datasets.Dataset':
    """The rows with every attribute in `names` they lack at its default (rows joined to others need the same)."""
    for name in names:
        if name not in rows.column_names:
            rows = rows.add_column(name, [DEFAULTS[name]] * len(rows))
    return rows
