"""Evaluate a saved output folder on its dev and test data without training (what scripts/eval.sh runs).

The run is replayed from the folder's run_config.yaml (the settled arguments of its training) without what only
training uses; extra flags are passed through and win.
Usage: python -m tunekit.programs.evaluate <output_dir> [flags...]
"""

import os
import sys
import tempfile

from tunekit import tasks
from tunekit.config.arguments import ModelArguments, read_config_file, training_only_arguments
from tunekit.data.sources import SPLIT_FILE_STEMS, find_split_files, flag
from tunekit.data.corpora import corpora_of
from tunekit.errors import UserError, exits_cleanly_on_user_errors
from tunekit.files import write_json
from tunekit.folder import RUN_ARGUMENTS_FILE, RUN_CONFIG_FILE, OutputFolder
from tunekit.programs.train import train


def available_splits(data) -> set:
    """Which of validation/test this data has: explicit files, a data folder's files, or a Hub dataset; with
    several corpora, what any of them has."""
    if data.get("corpora"):
        held_out = {"validation_split_percentage": data.get("validation_split_percentage", 10)}
        return set().union(*(available_splits({**held_out, **corpus.data}) for corpus in corpora_of(data["corpora"])))
    if data.get("dataset_name"):
        return {"validation", "test"}
    found = set(find_split_files(data["data_dir"])) if data.get("data_dir") else set()
    found |= {split for split in SPLIT_FILE_STEMS if data.get(flag(split))}
    if "train" in found and data.get("validation_split_percentage"):
        found.add("validation")
    return found


# What only training uses: evaluation scores the saved model on all of dev and test, with its saved thresholds
# (pass --tune_thresholds again to tune them anew), and leaves its ONNX graph as it is. Trainer's own flags are
# listed here; ours are the argument groups and fields that say training_only (config/arguments.py).
TRAINER_TRAINING_ONLY = ("do_train", "do_eval", "do_predict", "resume_from_checkpoint", "report_to", "output_dir")


def replayed_config(output_dir: str) -> tuple[str, dict]:
    """(the folder's task name, its run_config.yaml values without what only training uses), or a one-line error."""
    folder = OutputFolder(output_dir)
    facts = folder.facts()
    if not facts or not os.path.isfile(folder.run_config):
        missing = RUN_ARGUMENTS_FILE if not facts else RUN_CONFIG_FILE
        raise UserError(f"{output_dir}: not an output folder of a finished training (no {missing})")
    task = tasks.of_folder(facts)  # a plug-in's task is registered where the folder says
    values = read_config_file(folder.run_config)
    training_only = set(TRAINER_TRAINING_ONLY + training_only_arguments(ModelArguments, task.data_arguments))
    return task.name, {key: value for key, value in values.items() if key not in training_only}


def main(argv: list | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0].startswith("-"):
        raise UserError("usage: python -m tunekit.programs.evaluate <output_dir> [flags...]")
    output_dir, extra = argv[0], argv[1:]
    task_name, values = replayed_config(output_dir)
    splits = available_splits(values)
    if not splits & {"validation", "test"}:
        raise UserError(f"{output_dir}: the saved data has no dev or test split to evaluate on")
    stages = (["--do_eval"] if "validation" in splits else []) + (["--do_predict"] if "test" in splits else [])
    with tempfile.TemporaryDirectory() as folder:
        config_file = os.path.join(folder, "evaluation.json")
        write_json(config_file, values)
        return train(task_name, [config_file, "--model_name_or_path", output_dir,
                                    "--output_dir", output_dir, *stages, "--report_to", "none", *extra])


if __name__ == "__main__":
    sys.exit(exits_cleanly_on_user_errors(main)())
