"""Gradient clipping folded into the fused AdamW step.

Trainer clips by scaling every gradient in place (a pass over every gradient of the model, timed in the
docs/speed.md) before the optimizer reads them again. PyTorch's fused Adam/AdamW kernels can divide each
gradient by a `grad_scale` as they read it (the hook GradScaler uses), so the clip costs only the norm: the
update is the same to float rounding (tests/test_fold_clipping.py).
"""

import torch

from tunekit import compat


def inner_optimizer(optimizer) -> 'torch.optim.Optimizer':
    """The torch optimizer under accelerate's wrappers."""
    while isinstance(getattr(optimizer, "optimizer", None), torch.optim.Optimizer):
        optimizer = optimizer.optimizer
    return optimizer


def can_fold_clipping(optimizer) -> bool:
    """Whether the optimizer is a fused torch Adam/AdamW whose every group is fused (it then honours grad_scale)."""
    return (
        isinstance(optimizer, (torch.optim.Adam, torch.optim.AdamW))
        and all(group.get("fused") for group in optimizer.param_groups)
        and not compat.uses_grad_scaler(optimizer)  # no GradScaler using the same hook
    )


def clip_in_step(optimizer, parameters, max_norm: float) -> 'torch.Tensor':
    """Total gradient norm (as clip_grad_norm_ returns it); the clipping coefficient is handed to the next
    optimizer.step() as grad_scale, and dropped after that step."""
    grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.nn.utils.get_total_norm(grads, 2.0)
    coefficient = torch.clamp(max_norm / (total + 1e-6), max=1.0)  # as torch.nn.utils.clip_grads_with_norm_
    compat.set_step_grad_scale(optimizer, (1.0 / coefficient).to(torch.float32))
    if not getattr(optimizer, "_tunekit_drops_grad_scale", False):
        optimizer.register_step_post_hook(_drop_grad_scale)
        optimizer._tunekit_drops_grad_scale = True
    return total


def _drop_grad_scale(optimizer, args, kwargs):
    compat.set_step_grad_scale(optimizer, None)
