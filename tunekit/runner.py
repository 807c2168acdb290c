"""The steps every task shares: start a run, evaluate splits and write their results."""

from dataclasses import dataclass
from typing import Callable, Optional

import os

import datasets
import torch
from transformers import set_seed

from .arguments import parse_arguments
from .outputs import save_results
from .training import checkpoint_to_resume, setup_logging


def use_cpu_processes_without_accelerator():
    """Under torchrun / accelerate launch on a machine without GPUs, train as one job over several CPU
    processes (gloo), instead of letting each process train alone on all the data."""
    several = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if several and not torch.cuda.is_available() and not torch.backends.mps.is_available():
        os.environ.setdefault("ACCELERATE_USE_CPU", "true")


def start_run(data_arguments_class, argv):
    """Parse arguments, set up logging and the seed, and decide whether this run resumes a checkpoint."""
    use_cpu_processes_without_accelerator()
    model_args, data_args, run_args, training_args = parse_arguments(data_arguments_class, argv)
    setup_logging(training_args)
    set_seed(training_args.seed)
    checkpoint = checkpoint_to_resume(training_args, run_args)
    return model_args, data_args, training_args, checkpoint


@dataclass
class Evaluation:
    """One split to score: its metric prefix (eval, eval_mm, predict), features, scorer and extra outputs."""

    prefix: str
    dataset: object
    scorer: Optional[Callable]
    samples: int
    write_outputs: Callable = None  # (output_dir, PredictionOutput) -> None, main process only


def run_evaluations(trainer, evaluations):
    """Predict each split with its own scorer, log the metrics and write results on the main process."""
    for evaluation in evaluations:
        trainer.compute_metrics = evaluation.scorer
        output = trainer.predict(evaluation.dataset, metric_key_prefix=evaluation.prefix)
        metrics = dict(output.metrics, **{f"{evaluation.prefix}_samples": evaluation.samples})
        trainer.log_metrics(evaluation.prefix, metrics)
        if trainer.is_world_process_zero():
            save_results(trainer.args.output_dir, evaluation.prefix, metrics)
            if evaluation.write_outputs is not None:
                evaluation.write_outputs(trainer.args.output_dir, output)


def tokenize_splits(splits, encoder, data_args, training_args, with_indices=False):
    """Encode every split with Dataset.map (batched, cached, optionally in several processes)."""
    encoded = {}
    for split, (dataset, _) in splits.items():
        if isinstance(dataset, datasets.IterableDataset):  # encoded lazily, as training reads it
            encoded[split] = dataset.map(
                encoder, batched=True, with_indices=with_indices, remove_columns=list(dataset.features)
            )
            continue
        with training_args.main_process_first(desc=f"tokenizing {split}"):
            encoded[split] = dataset.map(
                encoder,
                batched=True,
                with_indices=with_indices,
                remove_columns=dataset.column_names,
                num_proc=data_args.preprocessing_num_workers,
                load_from_cache_file=not data_args.overwrite_cache,
                desc=f"Tokenizing {split}",
            )
    return encoded
