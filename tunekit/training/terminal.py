"""What the terminal shows: the log setup, and one readable line per Trainer log event, no raw dicts.

Trainer's own callbacks print each log as a Python dict with numbers turned into strings
(`{'loss': '0.7519', ...}`); these write `step 50/188  epoch 0.53  loss 0.7519  ...` instead, above the
progress bar (ProgressCallback) or as plain lines when there is no bar (PrinterCallback: --disable_tqdm,
or output that is not a terminal, where a bar's redraws would leave escape codes in the log file).
"""

import logging
import sys

import datasets
import transformers
from transformers import PrinterCallback, ProgressCallback

from tunekit.splits import SCORED_PREFIXES, short_name

NOT_SHOWN = {"total_flos", "epoch", "step"}
logger = logging.getLogger("tunekit")


def number(value) -> str:
    """A number as a person reads it: 4 significant digits, small rates in exponent form."""
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.2e}"
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"


def log_line(logs, state) -> str:
    """One line for one of Trainer's log events (training, evaluation, end of training)."""
    where = f"step {state.global_step}/{state.max_steps}" + (f"  epoch {logs['epoch']:.2f}" if "epoch" in logs else "")
    if "train_runtime" in logs:
        return (f"training done at {where}: loss {number(logs.get('train_loss', float('nan')))}, "
                f"{logs['train_runtime']:.1f} s, {number(logs.get('train_samples_per_second', 0))} samples/s")
    prefixes = sorted(SCORED_PREFIXES + ("test",), key=len, reverse=True)  # eval_mm_* keys also start with eval_
    prefix = next((p for p in prefixes if any(k.startswith(p + "_") for k in logs)), None)
    if prefix is not None:
        scores = {k[len(prefix) + 1:]: v for k, v in logs.items() if k.startswith(prefix + "_")}
        runtime = scores.pop("runtime", None)
        for name in ("samples_per_second", "steps_per_second"):
            scores.pop(name, None)
        shown = "  ".join(f"{name.replace('_', ' ')} {number(value)}" for name, value in scores.items())
        return f"{short_name(prefix)} at {where}: {shown}" + (f"  ({runtime:.1f} s)" if runtime is not None else "")
    shown = "  ".join(
        f"{name.replace('_', ' ')} {number(value)}" for name, value in logs.items() if name not in NOT_SHOWN
    )
    return f"{where}  {shown}"


class ReadableProgress(ProgressCallback):
    """Trainer's progress bar, with readable log lines above it."""

    def on_log(self, args, state, control, logs=None, **kwargs) -> None:
        if state.is_world_process_zero and self.training_bar is not None and logs:
            self.training_bar.write(log_line(logs, state))


class ReadableLogLines(PrinterCallback):
    """Without a progress bar: one readable line per logged event."""

    def on_log(self, args, state, control, logs=None, **kwargs) -> None:
        if state.is_world_process_zero and logs:
            print(log_line(logs, state), flush=True)


def use_readable_logs(trainer) -> None:
    """Swap Trainer's printing callbacks for the readable ones (the same events, the same bars)."""
    for plain, readable in ((ProgressCallback, ReadableProgress), (PrinterCallback, ReadableLogLines)):
        if trainer.pop_callback(plain) is not None:
            trainer.add_callback(readable)


def setup_logging(training_args) -> None:
    """Log on the main process at the chosen level; other processes only warn."""
    logging.basicConfig(
        format="%(asctime)s - %(levelname)s - %(name)s - %(message)s",
        datefmt="%H:%M:%S",
        handlers=[logging.StreamHandler(sys.stdout)],
    )
    level = training_args.get_process_log_level()
    logger.setLevel(level)
    datasets.utils.logging.set_verbosity(level)
    transformers.utils.logging.set_verbosity(level)
    logging.getLogger("tunekit").setLevel(logging.INFO if training_args.should_log else logging.WARNING)
    # huggingface_hub prints through a handler of its own and then again through the root logger's: once is enough
    hub_logger = logging.getLogger("huggingface_hub")
    if hub_logger.handlers:
        hub_logger.propagate = False
