"""Training only the word-embedding rows that the training data can reach.

A word piece the training data never contains gets a zero gradient at every step, so Adam/AdamW without weight
decay leaves its row, and its zero moments, exactly as they were. Yet the dense gradient of the whole matrix is
zeroed, clipped and updated at every step: for a small model, much of a CPU step's fixed cost (docs/speed.md
has the counts). While training, the word embedding is
split into those rows (the trained parameter) and the original matrix (frozen, serving every other id); the
outputs, gradients and updates are the full matrix's, and the state dict keeps the plain merged `weight`, so
checkpoints, best-model reloads and saved models are what they were. Trainer puts the plain embedding back
when training ends.
"""

import logging

import datasets
import pyarrow.compute as pc
import torch
from torch import nn
from torch.nn import functional as F

from tunekit.modeling.modules import replace_modules

logger = logging.getLogger("tunekit")


class UsedRowsEmbedding(nn.Module):
    """An nn.Embedding whose `rows` (sorted ids) train; every other id reads the original, frozen matrix."""

    frozen: torch.Tensor  # buffers
    rows: torch.Tensor
    slots: torch.Tensor

    def __init__(self, embedding, rows):
        super().__init__()
        self.original = [embedding]  # a list: not a submodule, so its weight is no parameter of the model
        weight = embedding.weight
        self.register_buffer("frozen", weight.detach(), persistent=False)  # the original weight's own storage
        self.register_buffer("rows", rows, persistent=False)
        slots = torch.full((weight.shape[0],), -1, dtype=torch.long, device=weight.device)
        slots[rows] = torch.arange(len(rows), device=weight.device)
        self.register_buffer("slots", slots, persistent=False)
        self.trained = nn.Parameter(weight.detach()[rows].clone())
        pad = embedding.padding_idx
        self.trained_padding_idx = int(slots[pad]) if pad is not None and slots[pad] >= 0 else None
        self.register_state_dict_post_hook(_merged_state)
        self.register_load_state_dict_pre_hook(_split_state)

    def forward(self, ids) -> 'torch.Tensor':
        slots = self.slots[ids]
        known = slots >= 0
        if bool(known.all()):
            return F.embedding(slots, self.trained, self.trained_padding_idx)
        trained = F.embedding(slots.clamp(min=0), self.trained, self.trained_padding_idx)
        return torch.where(known.unsqueeze(-1), trained, F.embedding(ids, self.frozen))

    @torch.no_grad()
    def merged_weight(self) -> 'torch.Tensor':
        return self.frozen.clone().index_copy_(0, self.rows, self.trained.detach())

    @torch.no_grad()
    def merged_into_original(self) -> 'nn.Embedding':
        """The original nn.Embedding, holding the trained rows."""
        embedding = self.original[0]
        embedding.weight.index_copy_(0, self.rows, self.trained.detach())
        return embedding


def _merged_state(module, state_dict, prefix, local_metadata):
    state_dict.pop(prefix + "trained", None)
    state_dict[prefix + "weight"] = module.merged_weight()


def _split_state(module, state_dict, prefix, *args):
    weight = state_dict.pop(prefix + "weight", None)
    if weight is not None:
        with torch.no_grad():
            module.frozen.copy_(weight)
        state_dict[prefix + "trained"] = weight[module.rows.to(weight.device)]


def used_rows(dataset, extra_ids=()) -> 'torch.Tensor | None':
    """Sorted ids in the dataset's input_ids (its whole underlying table: a superset of any selection of it)
    plus extra_ids; None where the dataset is not an Arrow-backed datasets.Dataset with input_ids."""
    if not isinstance(dataset, datasets.Dataset) or "input_ids" not in dataset.column_names:
        return None
    ids = pc.unique(pc.list_flatten(dataset.data.column("input_ids"))).to_numpy()
    rows = torch.tensor(ids, dtype=torch.long)  # a copy: the Arrow buffer is read-only
    extra = torch.as_tensor([i for i in extra_ids if i is not None], dtype=torch.long)
    return torch.unique(torch.cat([rows, extra]))


def train_used_rows_only(model, dataset) -> bool:
    """Swap the model's input embedding for a UsedRowsEmbedding over the rows the dataset reaches (and the
    padding id); returns whether it did. The caller checks that the optimizer leaves zero-gradient rows alone."""
    embedding, output = _model_embeddings(model, "get_input_embeddings"), _model_embeddings(model, "get_output_embeddings")
    if type(embedding) is not nn.Embedding or not embedding.weight.requires_grad:
        return False
    if output is not None and getattr(output, "weight", None) is embedding.weight:  # tied: trained by the head too
        return False
    rows = used_rows(dataset, [embedding.padding_idx])
    if rows is None or len(rows) == 0 or int(rows.max()) >= embedding.num_embeddings or int(rows.min()) < 0:
        return False
    if len(rows) == embedding.num_embeddings:
        return False
    split = UsedRowsEmbedding(embedding, rows.to(embedding.weight.device))
    if not replace_modules(model, lambda child: split if child is embedding else None):
        raise ValueError("the input embedding is not a submodule of the model")
    logger.info("Word embeddings: training the %d of %d rows the training data uses", len(rows), embedding.num_embeddings)
    return True


def restore_embeddings(model) -> None:
    """Put plain nn.Embeddings back, holding the trained rows."""
    replace_modules(model, lambda child: child.merged_into_original() if isinstance(child, UsedRowsEmbedding) else None)


def _model_embeddings(model, getter):
    try:
        return getattr(model, getter)()
    except (AttributeError, NotImplementedError):  # models without the accessor, or whose base lacks it
        return None
