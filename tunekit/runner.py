"""The steps every task shares: start a run, tokenize, evaluate and write results, finish with card and charts."""

import dataclasses
import logging
import os
import sys
from dataclasses import dataclass
from typing import Callable, Optional

import datasets
import torch
import transformers
from transformers import set_seed

from .arguments import parse_arguments
from .batching import add_lengths
from .early_stopping import early_stopping_callbacks
from .errors import UserError
from .fast_dropout import use_fast_dropout
from .hp_search import apply_best, run_search, search_arguments, search_space
from .hardware import apply_precision
from .model_card import write_model_card
from .optimization import freeze
from .outputs import save_results
from .plots import training_curves
from .settings_checks import check_settings
from .terminal import ReadableLogLines, use_readable_logs
from .trainer import TunekitTrainer, in_input_order, in_order_scorer, sorted_by_length
from .training import (
    UsualPermissionsForCheckpoints,
    checkpoint_to_resume,
    finished_training,
    saved_run_facts,
    setup_logging,
)

logger = logging.getLogger("tunekit")
SUMMARY_METRICS = ("f1", "precision", "recall", "accuracy", "matthews_correlation", "pearson", "spearmanr", "loss")


def use_cpu_processes_without_accelerator():
    """Under torchrun / accelerate launch on a machine without GPUs, train as one job over several CPU
    processes (gloo), instead of letting each process train alone on all the data."""
    several = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if several and not torch.cuda.is_available() and not torch.backends.mps.is_available():
        os.environ.setdefault("ACCELERATE_USE_CPU", "true")


def start_run(data_arguments_class, argv):
    """Parse arguments, set up the terminal, logging and seed, and decide whether this run resumes a checkpoint."""
    use_cpu_processes_without_accelerator()
    model_args, data_args, run_args, training_args = parse_arguments(data_arguments_class, argv)
    check_settings(model_args, data_args, run_args, training_args)
    # One progress bar per phase: Trainer's; reading and tokenizing are logged as lines instead, and loading and
    # saving weights show no bar. Output that is not a terminal (a log file) gets lines only: a bar's redraws
    # would leave carriage returns and escape codes in it.
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    if not sys.stderr.isatty():
        training_args.disable_tqdm = True
    if run_args.quiet:
        training_args.disable_tqdm = True
        training_args.log_level = "error"
    if not torch.cuda.is_available():
        training_args.dataloader_pin_memory = False  # pinning needs an accelerator; avoids a warning per loader
    setup_logging(training_args)
    if run_args.quiet:
        logging.getLogger("tunekit").setLevel(logging.ERROR)
    apply_precision(run_args.precision, training_args)
    set_seed(training_args.seed)
    previous = finished_training(training_args, run_args)
    if previous is not None:
        evaluating = training_args.do_eval or training_args.do_predict
        logger.warning(
            "%s already holds a trained model (train_results.json): not training again%s. Pass "
            "--overwrite_output_dir to train afresh, or --resume_from_checkpoint checkpoint-N to continue.",
            training_args.output_dir, ", evaluating the saved model" if evaluating else "",
        )
        if not evaluating:
            raise SystemExit(0)
        training_args.do_train = False
        model_args.model_name_or_path = training_args.output_dir
    checkpoint = checkpoint_to_resume(training_args, run_args)
    return model_args, data_args, run_args, training_args, checkpoint, previous


def tokenize_splits(splits, encoder, data_args, training_args, with_indices=False):
    """Encode every split with Dataset.map (batched, cached, optionally in several processes)."""
    encoded = {}
    for split, (dataset, source) in splits.items():
        if isinstance(dataset, datasets.IterableDataset):  # encoded lazily, as training reads it
            encoded[split] = dataset.map(
                encoder, batched=True, with_indices=with_indices, remove_columns=list(dataset.features)
            )
            logger.info("%s: streaming from %s", split, source)
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
            encoded[split] = add_lengths(encoded[split])
        logger.info("%s: %d examples from %s, %d model inputs", split, len(dataset), source, len(encoded[split]))
    return encoded


def pad_multiple(data_args, training_args):
    """--pad_to_multiple_of, or 8 with mixed precision: bf16 on CPU goes through oneDNN, which caches kernels per
    shape, and lengths rounded to 8 keep that cache small (full CoNLL epoch: peak RSS 1.74 GB instead of
    2.52 GB, no slower)."""
    if data_args.pad_to_multiple_of is not None:
        return data_args.pad_to_multiple_of if data_args.pad_to_multiple_of > 1 else None
    return 8 if (training_args.fp16 or training_args.bf16) else None


def padding_options(data_args, training_args, max_length):
    """Collator padding: each batch to its longest (default) or every example to max_seq_length."""
    return {
        "padding": "max_length" if data_args.pad_to_max_length else True,
        "max_length": max_length if data_args.pad_to_max_length else None,
        "pad_to_multiple_of": pad_multiple(data_args, training_args),
    }


def prepared_model(model, run_args, training_args):
    """The model with --freeze_* applied (logged) and, training on CPU, the fast dropout."""
    if run_args.fast_dropout and training_args.do_train and training_args.device.type == "cpu":
        logger.info("Fast dropout: %d dropout layers swapped", use_fast_dropout(model))
    frozen = freeze(model, run_args.freeze_encoder, run_args.freeze_embeddings, run_args.freeze_layers)
    if frozen:
        logger.info("Frozen: %d of %d parameters", frozen, sum(p.numel() for p in model.parameters()))
    return model


def search_hyperparameters(run_args, training_args, data_args, make_model, parts, main_metric, with_crf=False, **extra):
    """With --hp_search_trials N: N optuna trials on fresh models (make_model(trial)), the trial table written to
    the output folder, and the best values put into training_args / data_args for the final training.
    parts = (tokenizer, collator, encoded, validation scorer)."""
    if not run_args.hp_search_trials or not training_args.do_train:
        return
    tokenizer, collator, encoded, scorer = parts
    if "validation" not in encoded:
        raise UserError("--hp_search_trials needs validation data to compare the trials")
    trial_run_args = dataclasses.replace(run_args, early_stopping_patience=None)
    trainer = build_trainer(
        trial_run_args, search_arguments(training_args), make_model, tokenizer, collator, encoded, scorer,
        main_metric, **extra,
    )
    best = run_search(trainer, run_args.hp_search_trials, main_metric, search_space(with_crf), training_args.output_dir)
    apply_best(best, training_args, data_args)


def build_trainer(run_args, training_args, model, tokenizer, collator, encoded, compute_metrics, main_metric, **extra):
    """A Trainer on the train and validation splits (the latter length-sorted, scored in input order), with the
    run's freezing, learning-rate groups and early stopping; with --quiet it prints no log lines either."""
    model_init = None
    if isinstance(model, torch.nn.Module):
        model = prepared_model(model, run_args, training_args)
    else:  # a function of the hyperparameter-search trial that builds a fresh model
        make_model, model = model, None

        def model_init(trial=None):
            return prepared_model(make_model(trial), run_args, training_args)

    callbacks = early_stopping_callbacks(run_args, training_args, main_metric, "validation" in encoded)
    callbacks.append(UsualPermissionsForCheckpoints())
    eval_dataset, order = sorted_by_length(encoded.get("validation"), run_args.length_bucketing)
    trainer = TunekitTrainer(
        model=model,
        model_init=model_init,
        args=training_args,
        train_dataset=encoded.get("train"),
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        data_collator=collator,
        compute_metrics=in_order_scorer(compute_metrics, order),
        callbacks=callbacks,
        length_bucketing=run_args.length_bucketing,
        bucket_batches=run_args.length_bucket_batches,
        head_learning_rate=run_args.head_learning_rate,
        layerwise_lr_decay=run_args.layerwise_lr_decay,
        reachable_rows_only=run_args.skip_unused_embedding_rows,
        fold_clipping=run_args.fold_clipping,
        **extra,
    )
    use_readable_logs(trainer)
    if run_args.quiet:
        trainer.remove_callback(ReadableLogLines)
    return trainer


@dataclass
class Evaluation:
    """One split to score: its metric prefix (eval, eval_mm, predict), features, scorer and extra outputs."""

    prefix: str
    dataset: object
    scorer: Optional[Callable]
    samples: int
    write_outputs: Callable = None  # (output_dir, PredictionOutput) -> None, main process only


def run_evaluations(trainer, evaluations):
    """Predict each split with its own scorer and write results on the main process; returns prefix -> metrics."""
    summary = {}
    for evaluation in evaluations:
        dataset, order = sorted_by_length(evaluation.dataset, trainer.length_bucketing)
        trainer.compute_metrics = in_order_scorer(evaluation.scorer, order)
        output = trainer.predict(dataset, metric_key_prefix=evaluation.prefix)
        output = output._replace(
            predictions=in_input_order(output.predictions, order), label_ids=in_input_order(output.label_ids, order)
        )
        metrics = dict(output.metrics, **{f"{evaluation.prefix}_samples": evaluation.samples})
        summary[evaluation.prefix] = metrics
        if trainer.is_world_process_zero():
            save_results(trainer.args.output_dir, evaluation.prefix, metrics)
            if evaluation.write_outputs is not None:
                evaluation.write_outputs(trainer.args.output_dir, output)
    return summary


def summary_table(train_metrics, summary):
    """A short table of the run's main numbers, one row per split."""
    rows = []
    if train_metrics:
        speed = train_metrics.get("train_samples_per_second")
        rows.append(("train", f"loss {train_metrics.get('train_loss', float('nan')):.4f}"
                     + (f", {speed:.1f} samples/s" if speed else "")
                     + f", {train_metrics.get('train_runtime', 0):.0f}s"))
    for prefix, metrics in summary.items():
        shown = [f"{name} {metrics[f'{prefix}_{name}']:.4f}" for name in SUMMARY_METRICS if f"{prefix}_{name}" in metrics]
        rows.append(({"eval": "dev", "eval_mm": "dev-mm", "predict": "test"}.get(prefix, prefix), ", ".join(shown)))
    width = max((len(name) for name, _ in rows), default=5)
    return "\n".join(f"  {name:<{width}}  {values}" for name, values in rows)


def base_model(model_args, output_dir):
    """The model training started from: the saved one when this run evaluates a trained folder."""
    name = model_args.model_name_or_path
    if name and os.path.abspath(name) == os.path.abspath(output_dir):
        return saved_run_facts(output_dir).get("base_model")
    return name


def finish_run(trainer, run_args, model_args, data_args, task, labels, train_metrics, summary, curve_metric):
    """Charts, model card, ONNX export and the closing table; files on the main process only."""
    training_args = trainer.args
    output_dir = training_args.output_dir
    if trainer.is_world_process_zero():
        name = training_args.metric_for_best_model or curve_metric
        metric = name if name.startswith("eval_") else f"eval_{name}"
        if train_metrics:
            training_curves(trainer.state.log_history, metric, os.path.join(output_dir, "training_curves.png"),
                            os.path.basename(os.path.abspath(output_dir)))
        if training_args.do_train or os.path.exists(os.path.join(output_dir, "config.json")):
            write_model_card(output_dir, task, base_model(model_args, output_dir), data_args, training_args, labels)
        if run_args.export_onnx:
            from .onnx_export import export_onnx

            path = export_onnx(trainer.model, trainer.processing_class, output_dir)
            logger.info("ONNX model written to %s (same predictions as PyTorch on a sample)", path)
        if not run_args.quiet:
            print(f"\nResults ({output_dir}):\n{summary_table(train_metrics, summary)}")
