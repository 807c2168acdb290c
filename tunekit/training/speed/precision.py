"""Mixed precision: what --precision auto means on this hardware, and the task head kept in fp32 under it."""

import torch

from tunekit.training.speed.hardware import native_bf16

HEAD_NAMES = ("classifier", "logits_proj")


def precision_settings(precision: str, training_args) -> tuple[dict, str]:
    """(TrainingArguments changes, why) for --precision: auto takes bf16 autocast where the hardware has it natively
    (docs/speed.md has the measurement) unless --bf16/--fp16 already chose; fp32 turns mixed precision
    off; bf16/fp16 force it."""
    if precision == "auto":
        if training_args.fp16 or training_args.bf16:
            return {}, "--fp16" if training_args.fp16 else "--bf16"
        if native_bf16():
            return {"bf16": True}, "auto: this hardware has native bf16"
        return {}, "auto: no native bf16 here (emulated bf16 is slower than fp32)"
    if precision == "fp32":
        return {"bf16": False, "fp16": False}, "--precision fp32"
    return {precision: True}, f"--precision {precision}"


def precision_name(training_args) -> str:
    """bf16, fp16 or fp32."""
    return "bf16" if training_args.bf16 else "fp16" if training_args.fp16 else "fp32"


def keep_head_in_fp32(model: torch.nn.Module) -> torch.nn.Module:
    """Run the task head outside autocast, in fp32: bf16 logits would round regression scores to steps of
    1/32 near 5 and make near-equal outputs identical; the head is a tiny part of the compute."""
    if isinstance(getattr(model, "tagger", None), torch.nn.Module):  # the CRF model's emission scorer
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
