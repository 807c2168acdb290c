"""What this machine runs fast: native bf16, and the attention implementation that suits the device."""

import logging
import os
import platform

import torch

logger = logging.getLogger("tunekit")


def has_accelerator():
    return torch.cuda.is_available() or torch.backends.mps.is_available() or (
        hasattr(torch, "xpu") and torch.xpu.is_available()
    )


def native_bf16():
    """bf16 matmuls in hardware: Ampere+ GPUs, or CPUs with AVX512-BF16 / AMX (emulated bf16 is slower than fp32)."""
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    if has_accelerator():
        return False
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, check, lambda: False)() for check in checks)


def apply_precision(precision, training_args):
    """--precision auto: bf16 autocast where the hardware has it (measured: same F1, about twice the speed on CPU),
    unless --bf16/--fp16 already chose; fp32 turns mixed precision off; bf16/fp16 force it."""
    if precision == "auto":
        precision = "bf16" if native_bf16() and not training_args.fp16 else None
    if precision == "fp32":
        training_args.bf16 = training_args.fp16 = False
        training_args.mixed_precision = "no"
    elif precision in ("bf16", "fp16"):
        setattr(training_args, precision, True)
        training_args.mixed_precision = precision
    logger.info("Precision: %s", training_args.mixed_precision if training_args.mixed_precision != "no" else "fp32")


def describe_hardware(training_args):
    """What trained the model, for the model card: the GPUs, or the CPU model and cores, and the precision."""
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        device = f"{count} x {torch.cuda.get_device_name(0)}"
    else:
        device = f"CPU: {cpu_model()}, {os.cpu_count()} cores"
    processes = f", {training_args.world_size} processes" if training_args.world_size > 1 else ""
    precision = training_args.mixed_precision if training_args.mixed_precision not in (None, "no") else "fp32"
    return f"{device}{processes}, {precision}"


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            for line in stream:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def attention_implementation(choice):
    """--attn_implementation auto: eager attention on CPU, where PyTorch's fused (sdpa) kernels are slower for the
    short sequences of fine-tuning (1.7x slower training steps measured in bf16); the model's default elsewhere."""
    if choice != "auto":
        return choice
    return None if has_accelerator() else "eager"


HEAD_NAMES = ("classifier", "logits_proj")


def keep_head_in_fp32(model):
    """Run the task head outside autocast, in fp32: bf16 logits would round regression scores to steps of
    1/32 near 5 and make near-equal outputs identical; the head is a tiny part of the compute."""
    if isinstance(getattr(model, "tagger", None), torch.nn.Module):  # the CRF model's emission scorer
        keep_head_in_fp32(model.tagger)
    head = next((getattr(model, name) for name in HEAD_NAMES if isinstance(getattr(model, name, None), torch.nn.Module)), None)
    if head is None:
        return model
    forward = head.forward

    def fp32_forward(*args, **kwargs):
        args = [arg.float() if torch.is_tensor(arg) and arg.is_floating_point() else arg for arg in args]
        device = next((arg.device.type for arg in args if torch.is_tensor(arg)), "cpu")
        with torch.autocast(device_type=device, enabled=False):
            return forward(*args, **kwargs)

    head.forward = fp32_forward
    return model
