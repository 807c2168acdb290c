"""What this machine is: an accelerator or not, native bf16 or not, and its description for the model card."""

import logging
import os
import platform

import torch

from tunekit import compat

logger = logging.getLogger("tunekit")


def has_accelerator() -> bool:
    return torch.cuda.is_available() or torch.backends.mps.is_available() or (
        hasattr(torch, "xpu") and torch.xpu.is_available()
    )


def native_bf16() -> bool:
    """bf16 matmuls in hardware: Ampere+ GPUs, or CPUs with AVX512-BF16 / AMX (emulated bf16 is slower than fp32)."""
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    if has_accelerator():
        return False
    return bool(compat.cpu_native_bf16())


def describe_hardware(training_args) -> str:
    """What trained the model, for the model card: the GPUs, or the CPU model and cores, and the precision."""
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        device = f"{count} x {torch.cuda.get_device_name(0)}"
    else:
        device = f"CPU: {cpu_model()}, {os.cpu_count()} cores"
    processes = f", {training_args.world_size} processes" if training_args.world_size > 1 else ""
    precision = training_args.mixed_precision if training_args.mixed_precision not in (None, "no") else "fp32"
    return f"{device}{processes}, {precision}"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as stream:
            for line in stream:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
