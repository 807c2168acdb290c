"""Which attention kernels a model is loaded with: --attn_implementation auto settled for this device."""

from tunekit.config.hardware import has_accelerator


def attention_choice(choice: str) -> tuple[str | None, str]:
    """(the implementation to load with, or None for the model's own default; why). auto: eager attention on CPU,
    where PyTorch's fused (sdpa) kernels are slower for the short sequences of fine-tuning (measured in the
    docs/speed.md); the model's default on accelerators."""
    if choice != "auto":
        return choice, f"--attn_implementation {choice}"
    if has_accelerator():
        return None, "auto: the model's default on this accelerator"
    return "eager", "auto: eager on CPU (faster than sdpa for short sequences)"
