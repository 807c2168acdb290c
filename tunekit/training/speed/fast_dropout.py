"""Dropout for CPU training with the same distribution as PyTorch's at a fraction of its cost.

On CPU, torch's dropout draws one random float per element (bernoulli_), a large share of a small model's
training step. Here one 64-bit random number makes four 16-bit lanes, each compared with p x 65536: each
element is still kept independently with probability 1 - p (to 1/65536), from torch's seeded generator.
Attention-probability dropout sits inside the attention function, so models with the plain BERT attention get
an attention function that applies it the same way (and runs the model's usual one when there is no dropout:
evaluation, prediction). The timings are in docs/speed.md.
"""

import math

import torch
from torch import nn
from transformers import AttentionInterface, PreTrainedModel

from tunekit import compat
from tunekit.modeling.modules import replace_modules

LANES = 1 << 16
# Model types whose eager attention is BERT's (matmul, scale, additive mask, softmax, dropout, matmul).
PLAIN_ATTENTION_MODELS = ("bert", "roberta", "xlm-roberta", "camembert", "electra", "distilbert")
ATTENTION_NAMES = {"eager": "tunekit_eager", "sdpa": "tunekit_sdpa"}


def keep_mask(shape, p: float, device=None) -> torch.Tensor:
    """A bool tensor of `shape`, each element True with probability 1 - p, independently."""
    count = math.prod(shape)
    # random_ over the full signed range: its default range leaves the sign bit of every int64 at 0
    bits = torch.empty((count + 3) // 4, dtype=torch.int64, device=device).random_(-(1 << 63), (1 << 63) - 1)
    lanes = bits.view(torch.int16)[:count].view(shape)
    return lanes >= round(p * LANES) - LANES // 2


class _KeepAndScale(torch.autograd.Function):
    # 0 + x * keep * (1 / (1 - p)) in one pass each way, the scale applied in float (a bf16 scale would be 0.2% off)
    @staticmethod
    def forward(ctx, inputs, p: float):
        keep = keep_mask(inputs.shape, p, inputs.device)
        ctx.save_for_backward(keep)
        ctx.scale = 1.0 / (1.0 - p)
        return torch.addcmul(inputs.new_zeros(()), inputs, keep, value=ctx.scale)

    @staticmethod
    def backward(ctx, grad):
        (keep,) = ctx.saved_tensors
        return torch.addcmul(grad.new_zeros(()), grad, keep, value=ctx.scale), None


def fast_dropout(inputs, p: float, training=True) -> 'torch.Tensor':
    """nn.functional.dropout with the cheaper mask."""
    if not training or p == 0.0:
        return inputs
    if p >= 1.0:
        return inputs * 0.0
    return _KeepAndScale.apply(inputs, p)


class FastDropout(nn.Dropout):
    def forward(self, inputs) -> 'torch.Tensor':
        return fast_dropout(inputs, self.p, self.training)


def plain_attention(module, query, key, value, attention_mask, dropout=0.0, scaling=None, **kwargs) -> tuple:
    """BERT's eager attention, its probabilities dropped out with fast_dropout while training."""
    scaling = query.size(-1) ** -0.5 if scaling is None else scaling
    # scaling the queries (head size wide) costs less than scaling the scores (sequence length wide)
    weights = torch.matmul(query * scaling, key.transpose(2, 3))
    if attention_mask is not None and attention_mask.dtype == torch.bool:  # sdpa's mask: True = attend
        weights = weights.masked_fill(~attention_mask, torch.finfo(weights.dtype).min)
    elif attention_mask is not None:  # eager's additive mask
        weights = weights + attention_mask
    weights = fast_dropout(nn.functional.softmax(weights, dim=-1), dropout, module.training)
    return torch.matmul(weights, value).transpose(1, 2).contiguous(), weights


def sdpa_unless_dropout(module, query, key, value, attention_mask, dropout=0.0, scaling=None, **kwargs) -> tuple:
    """sdpa where there is no dropout (its CPU kernels draw the dropout mask the slow way)."""
    if dropout == 0.0 or not module.training:
        return compat.attention_internals()[3](module, query, key, value, attention_mask, dropout=0.0, scaling=scaling, **kwargs)
    return plain_attention(module, query, key, value, attention_mask, dropout, scaling)


def register_attention_functions() -> bool:
    """Register our attention functions (and the masks they take) under ATTENTION_NAMES; False, with one
    warning, where transformers' attention internals have changed (attention dropout then stays torch's)."""
    if not compat.available("attention_dropout"):
        return False
    mask_interface, eager_mask, sdpa_mask, _ = compat.attention_internals()
    AttentionInterface.register(ATTENTION_NAMES["eager"], plain_attention)
    mask_interface.register(ATTENTION_NAMES["eager"], eager_mask)
    AttentionInterface.register(ATTENTION_NAMES["sdpa"], sdpa_unless_dropout)
    mask_interface.register(ATTENTION_NAMES["sdpa"], sdpa_mask)
    return True


def use_fast_dropout(model) -> int:
    """Swap the model's dropout layers (and, for plain-attention models, its attention function) for the fast
    ones; returns how many layers were swapped. Saved models are unaffected: dropout has no weights and the
    attention choice is not written to config.json."""
    swapped = replace_modules(
        model, lambda child: FastDropout(child.p, child.inplace).train(child.training) if type(child) is nn.Dropout else None
    )
    if register_attention_functions():
        _use_attention_with_fast_dropout(model)
    return swapped


def _use_attention_with_fast_dropout(model):
    configs = set()
    for module in model.modules():  # outermost first: one call per model sets its submodules too
        config = getattr(module, "config", None)
        if not isinstance(module, PreTrainedModel) or id(config) in configs:
            continue
        configs.add(id(config))
        attention = compat.attention_of(config)
        if config.model_type in PLAIN_ATTENTION_MODELS and attention in ATTENTION_NAMES:
            module.set_attn_implementation(ATTENTION_NAMES[attention])
