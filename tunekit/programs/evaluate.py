"""Evaluate a saved output folder on its dev and test data without training (what scripts/eval.sh runs).

The data arguments come from the folder's tunekit_args.json; extra flags are passed through and win.
Usage: python -m tunekit.programs.evaluate <output_dir> [flags...]
"""

import sys

from tunekit.errors import UserError, exits_cleanly_on_user_errors
from tunekit.data.sources import SPLIT_FILE_STEMS, find_split_files, flag
from tunekit.folder import RUN_ARGUMENTS_FILE, saved_run_facts


def saved_flags(data) -> list:
    """Command-line flags that reproduce the saved data arguments. Left out: the training sample limit, and
    --tune_thresholds (the folder's tuned thresholds are used; pass it again to tune them anew)."""
    flags = []
    for key, value in data.items():
        if value is None or value is False or key in ("max_train_samples", "tune_thresholds"):
            continue
        flags += [f"--{key}"] if value is True else [f"--{key}", str(value)]
    return flags


def available_splits(data) -> set:
    """Which of validation/test this data has: explicit files, a data folder's files, or a Hub dataset."""
    if data.get("dataset_name"):
        return {"validation", "test"}
    found = set(find_split_files(data["data_dir"])) if data.get("data_dir") else set()
    found |= {split for split in SPLIT_FILE_STEMS if data.get(flag(split))}
    if "train" in found and data.get("validation_split_percentage"):
        found.add("validation")
    return found


def task_runner(task: str) -> 'Callable':
    if task == "ner":
        from tunekit.tasks.ner import run
    elif task == "glue":
        from tunekit.tasks.glue import run
    else:
        raise UserError(f"unknown task '{task}' in the saved arguments")
    return run


def load_run_arguments(output_dir: str) -> dict:
    """saved_run_facts of a folder that must have them (eval.sh)."""
    facts = saved_run_facts(output_dir)
    if not facts:
        raise UserError(f"{output_dir}: not an output folder of run_ner.py or run_glue.py (no {RUN_ARGUMENTS_FILE})")
    return facts


def main(argv: list | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0].startswith("-"):
        raise UserError("usage: python -m tunekit.programs.evaluate <output_dir> [flags...]")
    output_dir, extra = argv[0], argv[1:]
    saved = load_run_arguments(output_dir)
    splits = available_splits(saved["data"])
    if not splits & {"validation", "test"}:
        raise UserError(f"{output_dir}: the saved data has no dev or test split to evaluate on")
    stages = (["--do_eval"] if "validation" in splits else []) + (["--do_predict"] if "test" in splits else [])
    seed = ["--seed", str(saved["seed"])] if "seed" in saved else []
    run = task_runner(saved["task"])
    return run(
        ["--model_name_or_path", output_dir, "--output_dir", output_dir, *stages, *seed, "--report_to", "none"]
        + saved_flags(saved["data"])
        + extra
    )


if __name__ == "__main__":
    sys.exit(exits_cleanly_on_user_errors(main)())
