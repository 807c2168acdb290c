"""Packed training batches: a random batch's sentences (or pairs) laid end to end in a few rows.

A random batch pads every sentence to its longest (about 60% padding on CoNLL-2003). Packed, its sentences
fill rows as long as that longest one (first fit, longest first), each with its own positions and an
attention mask that keeps every sentence to itself, so the model computes what it would on the padded batch
(checked on the model itself before training: supports_packing) at a few percent padding, and the batch keeps
the random mix of sentences that length-sorted batches lose. For sequence classification the batch also says
where each sequence's first token sits (FIRST_TOKENS), and while the loss is computed (reading_first_tokens)
the module that reads the first token of each row (BERT's pooler, RoBERTa's and ELECTRA's classification
head) is given those tokens instead, one row per sequence.
"""

import logging
from contextlib import contextmanager

import torch

from .fast_dropout import PLAIN_ATTENTION_MODELS
from .losses import IGNORED

logger = logging.getLogger("tunekit")
# BERT's attention takes a 4D mask as given and its embeddings take position_ids.
PACKABLE_MODELS = PLAIN_ATTENTION_MODELS
ROBERTA_POSITIONS = ("roberta", "xlm-roberta", "camembert")  # positions start after the padding index
HEADS_READING_FIRST_TOKEN = ("roberta", "xlm-roberta", "camembert", "electra")  # classifier(features[:, 0])
FIRST_TOKENS = "first_tokens"  # batch key: (sequences, 2) row and column of each sequence's first token


def row_capacity(lengths, multiple):
    """Packed row length for a batch: its longest sentence, rounded up to the multiple."""
    return -(-max(lengths) // multiple) * multiple


def first_fit_rows(lengths, capacity):
    """Row assignment (lists of indices into lengths): longest first, each into the first row it fits."""
    rows, room = [], []
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
    """Collator: features (input_ids, labels, optional token_type_ids) -> packed rows with position_ids and an
    attention mask (rows, 1, length, length), boolean (True = attend) or, for eager attention, additive; a
    row's padded tail attends only to itself. Labels per token (token_labels) are packed with their tokens;
    a sequence's label comes in the order of FIRST_TOKENS."""

    def __init__(self, pad_token_id, first_position=0, multiple=8, additive_mask=False, token_labels=True):
        self.pad_token_id = pad_token_id or 0
        self.first_position = first_position
        self.multiple = multiple or 1
        self.additive_mask = additive_mask
        self.token_labels = token_labels

    def __call__(self, features):
        lengths = [len(feature["input_ids"]) for feature in features]
        capacity = row_capacity(lengths, self.multiple)
        rows = first_fit_rows(lengths, capacity)
        shape = (len(rows), capacity)
        input_ids = torch.full(shape, self.pad_token_id, dtype=torch.long)
        labels = torch.full(shape, IGNORED, dtype=torch.long)
        positions = torch.full(shape, self.first_position, dtype=torch.long)
        sentence = torch.full(shape, -1, dtype=torch.long)  # which sentence of its row a cell holds; -1 padding
        types = torch.zeros(shape, dtype=torch.long) if "token_type_ids" in features[0] else None
        placed, first_tokens = [], []  # sequence labels in placing order, and where each sequence starts
        for r, members in enumerate(rows):
            start = 0
            for number, index in enumerate(members):
                feature, end = features[index], start + lengths[index]
                input_ids[r, start:end] = torch.as_tensor(feature["input_ids"])
                if self.token_labels:
                    labels[r, start:end] = torch.as_tensor(feature["labels"])
                else:
                    placed.append(feature["labels"])
                    first_tokens.append((r, start))
                positions[r, start:end] = torch.arange(lengths[index]) + self.first_position
                sentence[r, start:end] = number
                if types is not None:
                    types[r, start:end] = torch.as_tensor(feature["token_type_ids"])
                start = end
        attend = (sentence[:, :, None] == sentence[:, None, :])[:, None]
        if self.additive_mask:
            attend = torch.zeros(attend.shape).masked_fill_(~attend, torch.finfo(torch.float32).min)
        batch = {"input_ids": input_ids, "labels": labels, "position_ids": positions, "attention_mask": attend}
        if not self.token_labels:
            batch["labels"] = torch.tensor(placed)
            batch[FIRST_TOKENS] = torch.tensor(first_tokens)
        if types is not None:
            batch["token_type_ids"] = types
        return batch


def packer_for(model, multiple, token_labels=True):
    """The PackedBatches that suits the model: its padding id, first position and attention mask format."""
    config = model.config
    return PackedBatches(
        config.pad_token_id,
        (config.pad_token_id or 0) + 1 if config.model_type in ROBERTA_POSITIONS else 0,
        multiple,
        additive_mask=config._attn_implementation == "eager",
        token_labels=token_labels,
    )


def first_token_reader(model):
    """The module of a sequence classifier that takes each row's first token ([:, 0]), or None."""
    base = getattr(model, getattr(model, "base_model_prefix", ""), None)
    if isinstance(getattr(base, "pooler", None), torch.nn.Module):
        return base.pooler
    if model.config.model_type in HEADS_READING_FIRST_TOKEN and isinstance(getattr(model, "classifier", None), torch.nn.Module):
        return model.classifier
    return None


@contextmanager
def reading_first_tokens(model, first_tokens):
    """While active, the model's first-token reader gets each packed sequence's first token as a row."""

    def one_row_per_sequence(_, args):
        hidden = args[0]
        return (hidden[first_tokens[:, 0], first_tokens[:, 1]][:, None],) + tuple(args[1:])

    handle = first_token_reader(model).register_forward_pre_hook(one_row_per_sequence)
    try:
        yield
    finally:
        handle.remove()


@torch.no_grad()
def supports_packing(model, token_labels=True):
    """Whether the model gives packed sequences the outputs it gives them padded (two short random sequences,
    fp32, no dropout); models outside PACKABLE_MODELS, or sequence classifiers without a first-token reader,
    are not tried."""
    config = getattr(model, "config", None)
    if config is None or config.model_type not in PACKABLE_MODELS or getattr(model, "computes_own_loss", False):
        return False
    if not token_labels and first_token_reader(model) is None:
        return False
    was_training = model.training
    model.eval()
    try:
        matches = _packed_equals_padded(model, token_labels)
    except (TypeError, ValueError, RuntimeError, IndexError) as error:  # no position_ids, no 4D mask, ...
        logger.info("Packing not possible for %s: %s", config.model_type, error)
        matches = False
    finally:
        model.train(was_training)
    return matches


def _packed_equals_padded(model, token_labels):
    config = model.config
    generator = torch.Generator().manual_seed(0)
    low, high = 5, min(config.vocab_size, 1000)
    sequences = [torch.randint(low, high, (length,), generator=generator) for length in (5, 3)]
    device = next(model.parameters()).device
    features = [{"input_ids": s.tolist(), "labels": [0] * len(s) if token_labels else 0} for s in sequences]
    packed = packer_for(model, 8, token_labels)(features)  # one row of 8 holding both
    del packed["labels"]
    first_tokens = packed.pop(FIRST_TOKENS, None)
    packed = {k: v.to(device) for k, v in packed.items()}
    padded = torch.full((2, 5), config.pad_token_id or 0, dtype=torch.long)
    padded[0], padded[1, :3] = sequences[0], sequences[1]
    mask = (torch.arange(5)[None] < torch.tensor([[5], [3]])).long()
    padded_logits = model(input_ids=padded.to(device), attention_mask=mask.to(device)).logits
    if token_labels:
        packed_logits = model(**packed).logits[0, :8]
        expected = torch.cat([padded_logits[0], padded_logits[1, :3]])
    else:
        with reading_first_tokens(model, first_tokens.to(device)):
            packed_logits = model(**packed).logits
        expected = padded_logits
    return torch.allclose(packed_logits.float().cpu(), expected.float().cpu(), atol=1e-4, rtol=1e-3)
