"""Mixed precision: the task head kept in fp32 under it (config/precision.py settles what --precision means)."""

import torch

from tunekit.modeling.taggers.modeling_crf import CrfForTokenClassification


HEAD_NAMES = ("classifier", "logits_proj")


def keep_head_in_fp32(model: torch.nn.Module) -> torch.nn.Module:
    """Run the task head outside autocast, in fp32: bf16 logits would round regression scores to steps of
    1/32 near 5 and make near-equal outputs identical; the head is a tiny part of the compute."""
    if isinstance(model, CrfForTokenClassification):  # its emission scorer's head
        keep_head_in_fp32(model.tagger)
    head = next((getattr(model, name) for name in HEAD_NAMES if isinstance(getattr(model, name, None), torch.nn.Module)), None)
    if head is None or getattr(head, "_tunekit_fp32", False):
        return model
    forward = head.forward

    def fp32_forward(*args, **kwargs):
        args = [arg.float() if torch.is_tensor(arg) and arg.is_floating_point() else arg for arg in args]
        device = next((arg.device.type for arg in args if torch.is_tensor(arg)), "cpu")
        with torch.autocast(device_type=device, enabled=False):
            return forward(*args, **kwargs)

    head.forward = fp32_forward
    head._tunekit_fp32 = True
    return model
