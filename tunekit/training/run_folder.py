"""Glue around transformers' Trainer shared by both tasks: logging, the output folder, resuming, saving."""

import dataclasses
import glob
import json
import logging
import os
import shutil
import struct
import zipfile

from transformers import TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from tunekit.errors import UserError
from tunekit.folder_lock import LOCK_FILE
from tunekit.folder import DATA_REPORT_FILES, OutputFolder
from tunekit.files import give_usual_permissions, save_results, write_json

logger = logging.getLogger("tunekit")


def checkpoint_to_resume(training_args, run_args) -> 'str | None':
    """The checkpoint this run resumes from, or None; refuses a non-empty folder without checkpoints.

    Every process decides before the main one deletes anything, so all processes agree.
    """
    if not training_args.do_train:
        return None
    if training_args.resume_from_checkpoint:
        if not os.path.isdir(training_args.resume_from_checkpoint):
            raise UserError(f"{training_args.resume_from_checkpoint}: --resume_from_checkpoint is not a folder")
        return training_args.resume_from_checkpoint
    output_dir = training_args.output_dir
    if not os.path.isdir(output_dir) or not set(os.listdir(output_dir)) - DATA_REPORT_FILES - {LOCK_FILE}:
        return None  # empty, or only the report of an earlier --inspect_data (and this run's lock)
    if run_args.overwrite_output_dir:
        with training_args.main_process_first(desc="clearing old checkpoints"):
            if training_args.process_index == 0:
                for stale in glob.glob(os.path.join(output_dir, "checkpoint-*")):
                    shutil.rmtree(stale, ignore_errors=True)
        return None
    last = last_complete_checkpoint(output_dir)
    if last is None:
        raise UserError(
            f"{output_dir}: the output folder already holds files but no checkpoint to resume from; pass "
            "--overwrite_output_dir to train afresh there, or choose another --output_dir"
        )
    logger.info("Resuming from %s (pass --overwrite_output_dir to start afresh)", last)
    return last


def finished_training(training_args, run_args) -> 'dict | None':
    """The train results of a training that already finished in this output folder, or None.

    Running the same command again must not resume from the last checkpoint, train 0 steps and replace the
    real figures with zeros: train_results.json is written only when training ended and the model was saved.
    """
    if not training_args.do_train or run_args.overwrite_output_dir or training_args.resume_from_checkpoint:
        return None
    folder = training_args.output_dir
    results = OutputFolder(folder).train_results
    if not (os.path.isfile(results) and os.path.isfile(OutputFolder(folder).model_config)):
        return None
    with open(results, encoding="utf-8") as stream:
        return json.load(stream)


def last_complete_checkpoint(output_dir: str) -> 'str | None':
    """The newest checkpoint-N that can be resumed from: a run killed while saving, a truncated weights file or a
    corrupt state file make a checkpoint that does not load, which is skipped with a warning naming what is wrong
    (the one before it is tried next)."""
    steps = []
    for path in glob.glob(os.path.join(output_dir, f"{PREFIX_CHECKPOINT_DIR}-*")):
        suffix = os.path.basename(path)[len(PREFIX_CHECKPOINT_DIR) + 1 :]
        if suffix.isdigit() and os.path.isdir(path):
            steps.append((int(suffix), path))
    for _, path in sorted(steps, reverse=True):
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        logger.warning("Skipping %s: %s", path, problem)
    return None


def checkpoint_problem(path: str) -> 'str | None':
    """Why a checkpoint folder cannot be resumed from, or None: trainer_state.json (written last) missing or not
    JSON, a .safetensors file shorter than its header says, a torch state file (.pt, .pth, .bin) that is not a
    whole zip archive."""
    state = OutputFolder(path).trainer_state
    if not os.path.exists(state):
        return "it was not completely saved (the run was probably killed while saving)"
    try:
        with open(state, encoding="utf-8") as stream:
            json.load(stream)
    except (OSError, ValueError):
        return "its trainer_state.json is not valid JSON"
    for name in sorted(os.listdir(path)):
        file = os.path.join(path, name)
        if name.endswith(".safetensors") and not whole_safetensors(file):
            return f"{name} is truncated or corrupt"
        if name.endswith((".pt", ".pth", ".bin")) and not zipfile.is_zipfile(file):
            return f"{name} is truncated or corrupt"
    return None


def whole_safetensors(path: str) -> bool:
    """Whether the file holds every byte its header promises (8 bytes of header length, the JSON header, then
    the tensors up to the largest end offset)."""
    try:
        with open(path, "rb") as stream:
            length = struct.unpack("<Q", stream.read(8))[0]
            header = json.loads(stream.read(length))
        end = max((entry["data_offsets"][1] for key, entry in header.items() if key != "__metadata__"), default=0)
        return os.path.getsize(path) == 8 + length + end
    except (OSError, ValueError, struct.error, KeyError, TypeError):
        return False


def save_model_atomically(trainer) -> None:
    """Save the final model into a temporary folder, then move each file into place with an atomic rename,
    so a kill never leaves a truncated model.safetensors or config.json in the output folder."""
    output_dir = trainer.args.output_dir
    staging = os.path.join(output_dir, ".tmp-final-model")
    trainer.save_model(staging)
    if trainer.is_world_process_zero():
        give_usual_permissions(staging)
        for name in os.listdir(staging):
            os.replace(os.path.join(staging, name), os.path.join(output_dir, name))
        shutil.rmtree(staging, ignore_errors=True)


class UsualPermissionsForCheckpoints(TrainerCallback):
    """Checkpoint files get the permissions of any other file (safetensors writes its weights 0o600)."""

    def on_save(self, args, state, control, **kwargs) -> None:
        folder = os.path.join(args.output_dir, f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}")
        if state.is_world_process_zero and os.path.isdir(folder):
            give_usual_permissions(folder)


def train_and_save(trainer, checkpoint, train_samples) -> dict:
    """Train (resuming when asked), then save the model, tokenizer, state and train results."""
    result = trainer.train(resume_from_checkpoint=checkpoint)
    save_model_atomically(trainer)
    metrics = dict(result.metrics, **({"train_samples": train_samples} if train_samples is not None else {}))
    if trainer.is_world_process_zero():
        trainer.save_state()
        save_results(trainer.args.output_dir, "train", metrics)
    return metrics


# The training settings the model card shows; kept at training so later evaluations show those, not their own.
CARD_SETTINGS = ("learning_rate", "per_device_train_batch_size", "gradient_accumulation_steps", "num_train_epochs",
                 "max_steps", "weight_decay", "warmup_steps", "seed")


def save_run_arguments(output_dir: str, task: str, task_plugin: str, data_args, training_args, base_model,
                       hardware=None, facts: 'dict | None' = None) -> None:
    """Keep the task (its name, and where its Task object lives, so a plug-in task's folder finds it), the data
    arguments (with absolute paths), the model training started from, its settings, the hardware it ran on and
    what other steps record of the run (facts: a teacher's, under "distillation"), for eval.sh, predict.sh,
    serve.sh and the model card of later evaluations."""
    seed = training_args.seed
    values = dataclasses.asdict(data_args)
    for key in ("data_dir", "train_file", "validation_file", "test_file", "label_file"):
        if values.get(key):
            values[key] = os.path.abspath(values[key])
    write_json(
        OutputFolder(output_dir).run_arguments,
        {
            "task": task, "task_plugin": task_plugin, "data": values, "seed": seed, "base_model": base_model, "hardware": hardware,
            "training": {name: getattr(training_args, name) for name in CARD_SETTINGS},
            **(facts or {}),
        },
    )
