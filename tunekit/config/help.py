"""--help for run_ner.py and run_glue.py: our own flags first, grouped, in a second or two.

The full list (every transformers TrainingArguments flag, about 900 lines) needs torch and transformers
imported, which takes several seconds; `--help_all` prints it.
"""

import dataclasses
import shutil
import sys
import textwrap
import typing

from tunekit.config.arguments import ModelArguments, RunArguments

COMMON_TRAINING_FLAGS = (
    "--output_dir DIR (required)", "--do_train", "--do_eval", "--do_predict", "--num_train_epochs N",
    "--max_steps N", "--learning_rate X", "--per_device_train_batch_size N", "--per_device_eval_batch_size N",
    "--gradient_accumulation_steps N", "--warmup_steps N", "--weight_decay X", "--eval_strategy epoch|steps|no",
    "--save_strategy epoch|steps|no", "--save_total_limit N", "--logging_steps N", "--seed N", "--bf16", "--fp16",
    "--report_to none|tensorboard|...", "--resume_from_checkpoint DIR", "--metric_for_best_model NAME",
)


def wants_help(argv: list) -> bool:
    return any(arg in ("-h", "--help", "--help_all") for arg in argv)


def show_help(script: str, data_arguments, argv: list, out=None) -> None:
    """Print the help the arguments ask for: ours (-h/--help) or the complete parser's (--help_all), to `out`
    or to the sys.stdout of the moment (so that a caller that redirects it gets the help)."""
    out = out or sys.stdout
    if "--help_all" in argv:
        from transformers import TrainingArguments

        from tunekit.config.arguments import strict_parser

        strict_parser((ModelArguments, data_arguments, RunArguments, TrainingArguments)).print_help(out)
        return
    width = min(shutil.get_terminal_size((100, 24)).columns, 110)
    lines = [
        f"usage: python {script} --output_dir DIR [flags...]",
        f"       python {script} config.json|config.yaml    (the same flags as keys)",
        "",
    ]
    for title, cls in (
        ("Model", ModelArguments),
        (f"Data ({script})", data_arguments),
        ("Training recipe and speed (tunekit)", RunArguments),
    ):
        lines += [f"{title}:"] + [line for item in dataclasses.fields(cls) for line in describe(item, width)] + [""]
    lines += ["Training (transformers' TrainingArguments; every one of its flags works), the usual ones:"]
    glued = ",  ".join(flag.replace(" ", "\0") for flag in COMMON_TRAINING_FLAGS)  # a flag and its value stay together
    lines += [line.replace("\0", " ") for line in textwrap.wrap(glued, width, initial_indent="  ", subsequent_indent="  ")]
    lines += ["", f"python {script} --help_all lists every flag (about 900 lines: all of TrainingArguments)."]
    out.write("\n".join(lines) + "\n")


def describe(item, width) -> list:
    """Help lines for one dataclass field: the flag (and its --no_ form), its value, default and help."""
    kind = value_type(item.type)
    if kind is bool:
        flag = f"--{item.name}" + (f", --no_{item.name}" if item.default is True else "")
    else:
        flag = f"--{item.name} {'N' if kind is int else 'X' if kind is float else 'VALUE'}"
    text = item.metadata.get("help", "")
    if item.default not in (None, False, True, dataclasses.MISSING) and "default" not in text.lower():
        text += f" (default: {item.default})"
    if kind is bool and item.default is True:
        text += " (on by default)"
    return [f"  {flag}"] + textwrap.wrap(text, width, initial_indent="      ", subsequent_indent="      ")


def value_type(annotation) -> type:
    """bool, int, float or str for a field annotation such as Optional[int]."""
    arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
    return arguments[0] if arguments else annotation
