"""Which parameters train and how fast: frozen parts of the encoder, a separate head learning rate and
layer-wise learning-rate decay, as optimizer parameter groups."""

import logging
import re
from collections import OrderedDict

import torch

from tunekit.errors import UserError

logger = logging.getLogger("tunekit")
LAYER_INDEX = re.compile(r"\.(?:layer|layers|block|blocks)\.(\d+)\.")


def encoder_prefix(model) -> 'str | None':
    """Parameter-name prefix of the pretrained encoder, following base_model_prefix through wrappers
    (the CRF model's encoder is tagger.bert, not tagger, whose classifier is part of the head)."""
    prefix, module = "", model
    while True:
        name = getattr(module, "base_model_prefix", "") or ""
        inner = getattr(module, name, None) if name else None
        if not isinstance(inner, torch.nn.Module):
            return prefix
        prefix, module = f"{prefix}{name}.", inner


def parameter_depths(model) -> tuple:
    """name -> depth for every parameter: 0 for the embeddings, i + 1 for encoder layer i, num_layers + 1 for
    the rest of the encoder (pooler, final norm), None for the task head (what the pretrained model lacks)."""
    prefix = encoder_prefix(model) or ""
    names = [name for name, _ in model.named_parameters()]
    in_encoder = {name for name in names if prefix and name.startswith(prefix)}
    indices = [int(match.group(1)) for match in map(LAYER_INDEX.search, in_encoder) if match]
    top = (max(indices) + 2) if indices else 1
    depths: dict[str, int | None] = {}
    for name in names:
        if name not in in_encoder:
            depths[name] = None
        elif "emb" in name[len(prefix):] and not LAYER_INDEX.search(name):
            depths[name] = 0
        else:
            match = LAYER_INDEX.search(name)
            depths[name] = int(match.group(1)) + 1 if match else top
    return depths, top - 1


def freeze(model, encoder=False, embeddings=False, layers=0) -> int:
    """Stop gradients to the whole encoder, its embeddings, or its embeddings and first `layers` layers.
    Returns the number of frozen parameters."""
    depths, num_layers = parameter_depths(model)
    if layers > num_layers:
        raise UserError(f"--freeze_layers {layers}: the model has only {num_layers} layers")
    frozen = 0
    for name, parameter in model.named_parameters():
        depth = depths[name]
        if depth is not None and (encoder or (embeddings and depth == 0) or (layers and depth <= layers)):
            parameter.requires_grad_(False)
            frozen += parameter.numel()
    return frozen


def parameter_groups(model, decay_names, learning_rate, weight_decay, head_learning_rate=None, layer_decay=None) -> list:
    """Optimizer groups: the head at head_learning_rate (default: learning_rate), encoder layer i of L at
    learning_rate * layer_decay ** (L - i) (embeddings one step below layer 1), weight decay off for biases and
    norm weights (decay_names lists the parameters that do decay). Frozen parameters are left out."""
    depths, num_layers = parameter_depths(model)
    groups: OrderedDict = OrderedDict()
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        depth = depths[name]
        if depth is None:
            rate, part = (head_learning_rate or learning_rate), "head"
        else:
            steps = max(num_layers - depth, 0) if layer_decay else 0
            rate = learning_rate * (layer_decay or 1.0) ** steps
            part = "embeddings" if depth == 0 else f"layer {depth - 1}" if depth <= num_layers else "encoder top"
        decay = weight_decay if name in decay_names else 0.0
        group = groups.setdefault((rate, decay), {"params": [], "lr": rate, "weight_decay": decay, "names": [], "parts": []})
        group["params"].append(parameter)
        group["names"].append(name)
        if part not in group["parts"]:
            group["parts"].append(part)
    return list(groups.values())


def describe_groups(groups) -> str:
    """One log line per group: part, learning rate, weight decay and size."""
    lines = []
    for group in groups:
        size = sum(p.numel() for p in group["params"])
        parts = group["parts"] if len(group["parts"]) <= 3 else group["parts"][:1] + ["..."] + group["parts"][-1:]
        lines.append(f"  lr {group['lr']:.3g}  weight decay {group['weight_decay']:g}  {size:>10,} parameters  "
                     f"({len(group['names'])} tensors: {', '.join(parts)})")
    return "\n".join(lines)
