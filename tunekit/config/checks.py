"""Settings that contradict each other or the file system: one clear error before anything is read or written.

TrainingArguments checks its own fields; these are the contradictions it accepts (a negative learning rate
reaches the optimizer as a traceback, --num_train_epochs 0 trains nothing and writes zeros as results,
--precision fp32 with --bf16 silently drops one of them) and the places on disk that cannot be what they
are asked to be (an output folder that is a file, or the data folder itself).
"""

import os

from tunekit.errors import UserError

DATA_PATHS = ("data_dir", "train_file", "validation_file", "test_file", "label_file")


def check_settings(model_args, data_args, run_args, training_args) -> None:
    """Raise a UserError for the first contradiction found."""
    check_numbers(data_args, run_args, training_args)
    check_pairs(data_args, run_args, training_args)
    check_disk(model_args, data_args, training_args)


def check_numbers(data_args, run_args, training_args) -> None:
    for name in ("max_train_samples", "max_eval_samples", "max_predict_samples"):
        value = getattr(data_args, name)
        if value is not None and value < 1:
            raise UserError(f"--{name} must be 1 or more, not {value} (leave it out to use every example)")
    for name in ("per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps"):
        if getattr(training_args, name) < 1:
            raise UserError(f"--{name} must be 1 or more, not {getattr(training_args, name)}")
    if training_args.learning_rate < 0 or (run_args.head_learning_rate is not None and run_args.head_learning_rate < 0):
        raise UserError("learning rates must be zero or more")
    if training_args.do_train and training_args.max_steps <= 0 and training_args.num_train_epochs <= 0:
        raise UserError(
            f"--num_train_epochs {training_args.num_train_epochs} trains nothing; give a positive number of epochs "
            "or --max_steps, or leave out --do_train to only evaluate"
        )
    if run_args.early_stopping_threshold < 0:
        raise UserError("--early_stopping_threshold must be zero or more: it is the smallest change that counts")
    if data_args.pad_to_multiple_of is not None and data_args.pad_to_multiple_of < 1:
        raise UserError("--pad_to_multiple_of must be 1 or more (1 turns rounding off)")
    if data_args.preprocessing_num_workers is not None and data_args.preprocessing_num_workers < 1:
        raise UserError("--preprocessing_num_workers must be 1 or more")


def check_pairs(data_args, run_args, training_args) -> None:
    wanted = {"fp32": (), "bf16": ("bf16",), "fp16": ("fp16",)}.get(run_args.precision)
    asked = tuple(name for name in ("bf16", "fp16") if getattr(training_args, name))
    if wanted is not None and asked and asked != wanted:
        raise UserError(f"--precision {run_args.precision} contradicts --{asked[0]}: give one of them")
    if training_args.resume_from_checkpoint and run_args.overwrite_output_dir:
        raise UserError("--resume_from_checkpoint continues a run and --overwrite_output_dir starts afresh: give one")


def check_disk(model_args, data_args, training_args) -> None:
    output_dir = training_args.output_dir
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise UserError(f"{output_dir}: --output_dir is a file, not a folder")
    if model_args.cache_dir and os.path.exists(model_args.cache_dir) and not os.path.isdir(model_args.cache_dir):
        raise UserError(f"{model_args.cache_dir}: --cache_dir is a file, not a folder")
    output = os.path.realpath(output_dir)
    for name in DATA_PATHS:
        path = getattr(data_args, name, None)
        if not path:
            continue
        data = os.path.realpath(path)
        # the data folder itself, or (when training writes into it) the folder a data file lies in
        beside_a_file = name != "data_dir" and training_args.do_train and os.path.dirname(data) == output
        if output == data or beside_a_file:
            raise UserError(
                f"{output_dir}: --output_dir is where --{name} {path} lies; results, charts and a README.md would be "
                "written among your data: choose a folder of its own"
            )
