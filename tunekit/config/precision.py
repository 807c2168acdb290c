"""What --precision auto means on this hardware: the TrainingArguments changes settled at the start."""

from tunekit.config.hardware import native_bf16


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
