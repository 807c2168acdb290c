"""scripts/train.sh's choices, made from the task registry (tunekit/tasks/__init__.py): which task a command trains
(a task's name or alias first; else the task that claims its --task_name; else the default task), the defaults
train.sh gives every run and the task's own (its epochs, its sample data when the command names none), and how it
is launched (ACCELERATE_CONFIG, LAUNCHER). Then this process becomes the run (exec), so signals reach it as
before. Imports the registry only: no torch."""

import os
import shlex
import sys

from tunekit import tasks
from tunekit.errors import UserError, exits_cleanly_on_user_errors

# the flags that name the data a run trains on: with none of them, a task with sample data trains on it
DATA_FLAGS = ("--data_dir", "--train_file", "--dataset_name", "--corpora")
COMMON_DEFAULTS = ("--do_train", "--do_eval")
SCHEDULE_DEFAULTS = (
    "--per_device_train_batch_size", "32", "--per_device_eval_batch_size", "64", "--learning_rate", "5e-5",
    "--max_seq_length", "128", "--eval_strategy", "epoch", "--save_strategy", "epoch", "--save_total_limit", "2",
    "--logging_steps", "50", "--report_to", "none", "--predict_if_test_data",
)


def chosen_task(argv: list) -> tuple[str, list]:
    """(the task's name, the flags without the task word)."""
    if argv and argv[0] in (*tasks.TASKS, *tasks.ALIASES):
        return tasks.canonical(argv[0]), argv[1:]
    for index, argument in enumerate(argv):
        value = argument.partition("=")[2] if argument.startswith("--task_name=") else (
            argv[index + 1] if argument == "--task_name" and index + 1 < len(argv) else None)
        claimed = tasks.claimed_by(value) if value else None
        if claimed:
            return claimed, argv
    return tasks.DEFAULT_TASK, argv


def names_data(argv: list) -> bool:
    return any(argument.split("=", 1)[0] in DATA_FLAGS for argument in argv)


def launcher(root: str, environ: dict) -> list:
    """The launcher to run under (ACCELERATE_CONFIG: a name in scripts/accelerate/ or a path; LAUNCHER: any), or
    [] for a plain process."""
    config = environ.get("ACCELERATE_CONFIG")
    if config:
        path = config if ("/" in config or config.endswith(".yaml")) else os.path.join(root, "scripts", "accelerate",
                                                                                        f"{config}.yaml")
        return ["accelerate", "launch", "--config_file", path]
    return shlex.split(environ.get("LAUNCHER", ""))


def command(root: str, output: str, argv: list, environ: dict, python: str) -> list:
    """The whole command train.sh runs: the launcher or the interpreter, the task's script, the defaults, then the
    user's flags (last, so that they override the defaults)."""
    name, flags = chosen_task(argv)
    entry = tasks.TASKS[name]
    if not entry.script.endswith(".py"):
        raise UserError(f"scripts/train.sh runs the tasks that have a script of their own; run {entry.script} instead")
    sample = ["--data_dir", os.path.join(root, entry.sample_data)] if entry.sample_data and not names_data(flags) else []
    arguments = ["--output_dir", output, *COMMON_DEFAULTS, *entry.train_defaults, *SCHEDULE_DEFAULTS, *sample, *flags]
    return [*(launcher(root, environ) or [python]), os.path.join(root, entry.script), *arguments]


def main(argv: list | None = None) -> int:
    """train.sh ROOT OUTPUT [task] [flags...]: becomes the run."""
    root, output, *rest = sys.argv[1:] if argv is None else argv
    run = command(root, output, rest, dict(os.environ), os.environ.get("PYTHON") or sys.executable)
    os.execvp(run[0], run)
    return 0  # not reached: exec replaces this process


if __name__ == "__main__":
    sys.exit(exits_cleanly_on_user_errors(main)())
