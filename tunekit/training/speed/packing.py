"""Packed training batches for token classification: a random batch's sentences laid end to end in a few rows.

A random batch pads every sentence to its longest (docs/speed.md has the padding shares). Packed, its sentences
fill rows as long as that longest one (first fit, longest first), each with its own positions and an
attention mask that keeps every sentence to itself, so the model computes what it would on the padded batch
(checked on the model itself before training: supports_packing) at a few percent padding, and the batch keeps
the random mix of sentences that length-sorted batches lose.
"""

import logging

import torch

from tunekit import compat
from tunekit.training.speed.fast_dropout import PLAIN_ATTENTION_MODELS
from tunekit.encoding import IGNORE_INDEX
from tunekit.encoding.row_attributes import COLUMNS, DEFAULTS, ROW_WEIGHT
from tunekit.modeling.taggers.modeling_crf import CrfForTokenClassification

logger = logging.getLogger("tunekit")
# BERT's attention takes a 4D mask as given and its embeddings take position_ids.
PACKABLE_MODELS = PLAIN_ATTENTION_MODELS
ROBERTA_POSITIONS = ("roberta", "xlm-roberta", "camembert")  # positions start after the padding index


def row_capacity(lengths, multiple: int) -> int:
    """Packed row length for a batch: its longest sentence, rounded up to the multiple."""
    return -(-max(lengths) // multiple) * multiple


def first_fit_rows(lengths, capacity: int) -> list:
    """Row assignment (lists of indices into lengths): longest first, each into the first row it fits."""
    rows: list = []
    room: list = []
    for index in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        length = lengths[index]
        row = next((r for r, space in enumerate(room) if space >= length), None)
        if row is None:
            rows.append([])
            room.append(capacity)
            row = len(rows) - 1
        rows[row].append(index)
        room[row] -= length
    return rows


class PackedBatches:
    """Collator: features (input_ids, labels, optional token_type_ids and row attributes) -> packed rows with
    position_ids, the row attributes per position and an attention mask (rows, 1, length, length), boolean (True =
    attend) or, for eager attention, additive; a row's padded tail attends only to itself."""

    def __init__(self, pad_token_id, first_position=0, multiple=8, additive_mask=False, min_row_length=0):
        self.pad_token_id = pad_token_id or 0
        self.min_row_length = min_row_length  # rows at least this long (prediction packs many short sentences)
        self.first_position = first_position
        self.multiple = multiple or 1
        self.additive_mask = additive_mask

    def __call__(self, features):
        lengths = [len(feature["input_ids"]) for feature in features]
        capacity = max(self.min_row_length, row_capacity(lengths, self.multiple))
        rows = first_fit_rows(lengths, capacity)
        shape = (len(rows), capacity)
        input_ids = torch.full(shape, self.pad_token_id, dtype=torch.long)
        labels = torch.full(shape, IGNORE_INDEX, dtype=torch.long)
        positions = torch.full(shape, self.first_position, dtype=torch.long)
        sentence = torch.full(shape, -1, dtype=torch.long)  # which sentence of its row a cell holds; -1 padding
        types = torch.zeros(shape, dtype=torch.long) if "token_type_ids" in features[0] else None
        # row attributes (encoding/row_attributes.py) per position: a packed row holds several sentences
        attributes = {name: torch.full(shape, DEFAULTS[name], dtype=torch.float32 if name == ROW_WEIGHT else torch.long)
                      for name in COLUMNS if name in features[0]}
        for r, members in enumerate(rows):
            start = 0
            for number, index in enumerate(members):
                feature, end = features[index], start + lengths[index]
                input_ids[r, start:end] = torch.as_tensor(feature["input_ids"])
                labels[r, start:end] = torch.as_tensor(feature["labels"])
                positions[r, start:end] = torch.arange(lengths[index]) + self.first_position
                sentence[r, start:end] = number
                if types is not None:
                    types[r, start:end] = torch.as_tensor(feature["token_type_ids"])
                for name, values in attributes.items():
                    values[r, start:end] = feature[name]
                start = end
        attend = (sentence[:, :, None] == sentence[:, None, :])[:, None]
        if self.additive_mask:
            attend = torch.zeros(attend.shape).masked_fill_(~attend, torch.finfo(torch.float32).min)
        batch = {"input_ids": input_ids, "labels": labels, "position_ids": positions, "attention_mask": attend}
        if types is not None:
            batch["token_type_ids"] = types
        return {**batch, **attributes}

    def sequences_in(self, batch) -> int:
        """How many sentences a packed batch holds: each starts at the first position with a real token (a row's
        padded tail has that position too, but only padding ids)."""
        starts = (batch["position_ids"] == self.first_position) & (batch["input_ids"] != self.pad_token_id)
        return int(starts.sum())


def packer_for(model, multiple: int) -> 'PackedBatches':
    """The PackedBatches that suits the model: its padding id, first position and attention mask format."""
    config = model.config
    return PackedBatches(
        config.pad_token_id,
        (config.pad_token_id or 0) + 1 if config.model_type in ROBERTA_POSITIONS else 0,
        multiple,
        additive_mask=compat.attention_of(config) == "eager",
    )


@torch.no_grad()
def supports_packing(model) -> bool:
    """Whether the model gives packed sentences the outputs it gives them padded (two short random sentences,
    fp32, no dropout); models outside PACKABLE_MODELS are not tried."""
    config = getattr(model, "config", None)
    # a CRF's loss is its sentence likelihood: it cannot be summed over packed sentences
    if config is None or config.model_type not in PACKABLE_MODELS or isinstance(model, CrfForTokenClassification):
        return False
    was_training = model.training
    model.eval()
    try:
        generator = torch.Generator().manual_seed(0)
        low, high = 5, min(config.vocab_size, 1000)
        sentences = [torch.randint(low, high, (length,), generator=generator) for length in (5, 3)]
        device = next(model.parameters()).device
        features = [{"input_ids": s.tolist(), "labels": [0] * len(s)} for s in sentences]
        packed = packer_for(model, 8)(features)  # one row of 8 holding both
        del packed["labels"]
        packed_logits = model(**{k: v.to(device) for k, v in packed.items()}).logits[0]
        padded = torch.full((2, 5), config.pad_token_id or 0, dtype=torch.long)
        padded[0], padded[1, :3] = sentences[0], sentences[1]
        mask = (torch.arange(5)[None] < torch.tensor([[5], [3]])).long()
        padded_logits = model(input_ids=padded.to(device), attention_mask=mask.to(device)).logits
        expected = torch.cat([padded_logits[0], padded_logits[1, :3]])
        matches = torch.allclose(packed_logits[:8].float().cpu(), expected.float().cpu(), atol=1e-4, rtol=1e-3)
    except (TypeError, ValueError, RuntimeError) as error:  # a forward that takes no position_ids or 4D mask
        logger.info("Packing not possible for %s: %s", config.model_type, error)
        matches = False
    finally:
        model.train(was_training)
    return matches
