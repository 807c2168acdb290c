"""run(task, argv): the one sequence every task goes through, from the command line to the output folder.

arguments -> read -> labels -> model config and tokenizer -> encode -> (search) -> train -> evaluate -> write.
The task (tasks/base.py) answers what differs between tasks; the arguments are settled by config/resolve.py
at the points where their facts become known, and the speed path is decided once (training/speed/switch.py).
"""

import logging
import os
import sys
import time

import datasets
import torch
import transformers
from transformers import set_seed

from tunekit.config.arguments import parse_arguments
from tunekit.config.checks import check_settings
from tunekit.config.resolve import (
    Settings,
    settle_data,
    settle_finished_run,
    settle_schedule,
    settle_search,
    settle_start,
    resolved_config_text,
)
from tunekit.data.max_length import choose_max_length
from tunekit.data.report import accumulated, data_report, read_data_report, write_data_report
from tunekit.data.sources import size_or_none
from tunekit.encoding.splits import padding_options
from tunekit.evaluation.run import Evaluation, run_evaluations
from tunekit.evaluation.runtime import evaluated_with, evaluation_model
from tunekit.modeling.loading import load_config
from tunekit.files import atomic_write
from tunekit.folder import RUN_CONFIG_FILE
from tunekit.outputs.finish import finish_run
from tunekit.training.terminal import setup_logging
from tunekit.tasks.base import Task
from tunekit.training.build import TrainerParts, build_trainer, search_hyperparameters
from tunekit.programs.seeds import run_seeds
from tunekit.training.run_folder import checkpoint_to_resume, finished_training, save_run_arguments, train_and_save
from tunekit.config.hardware import describe_hardware
from tunekit.training.speed.switch import log_plan, plan_speed

logger = logging.getLogger("tunekit")


def use_cpu_processes_without_accelerator() -> None:
    """Under torchrun / accelerate launch on a machine without GPUs, train as one job over several CPU
    processes (gloo), instead of letting each process train alone on all the data."""
    several = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if several and not torch.cuda.is_available() and not torch.backends.mps.is_available():
        os.environ.setdefault("ACCELERATE_USE_CPU", "true")


def start(task: Task, argv: list) -> tuple[Settings, dict | None, str | None]:
    """Parse and settle the arguments, set up logging and the seed, and decide whether this run resumes a
    checkpoint or re-evaluates a finished training: (settings, the finished run's train results, checkpoint)."""
    use_cpu_processes_without_accelerator()
    parsed = parse_arguments(task.data_arguments, argv)
    check_settings(*parsed)
    # One progress bar per phase, Trainer's: reading and tokenizing are logged as lines, loading shows no bar.
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    settings = settle_start(*parsed, terminal=sys.stderr.isatty())
    setup_logging(settings.training)
    if settings.run.quiet:
        logging.getLogger("tunekit").setLevel(logging.ERROR)
    set_seed(settings.training.seed)
    if settings.run.inspect_data or settings.run.seeds:  # the report alone, or seed folders below this one
        return settings, None, None
    previous = finished_training(settings.training, settings.run)
    if previous is not None:
        evaluating = settings.training.do_eval or settings.training.do_predict
        logger.warning(
            "%s already holds a trained model (train_results.json): not training again%s. Pass "
            "--overwrite_output_dir to train afresh, or --resume_from_checkpoint checkpoint-N to continue.",
            settings.training.output_dir, ", evaluating the saved model" if evaluating else "",
        )
        if not evaluating:
            raise SystemExit(0)
        settings = settle_finished_run(settings)
    return settings, previous, checkpoint_to_resume(settings.training, settings.run)


def inspect_data(task: Task, splits: dict, settings: Settings, prepared, measure, longer_means: str) -> None:
    """The data report (data/report.py): printed and written into the output folder by the main process."""
    if settings.training.process_index != 0:
        return
    started = time.perf_counter()
    numeric = prepared.extra.get("problem_type") == "regression"
    report = data_report(splits, measure, settings.data.max_seq_length, longer_means, task.token_level, numeric)
    earlier = read_data_report(settings.training.output_dir)
    if "train" not in report["splits"] and earlier is not None:  # an evaluation adds to what training wrote
        report = accumulated(earlier, report)
    text = write_data_report(settings.training.output_dir, report, task.token_level)
    if not settings.run.quiet:
        print(f"\nData report ({os.path.join(settings.training.output_dir, 'data_report.txt')}):\n{text}\n", flush=True)
    logger.info("Data report made in %.2f s", time.perf_counter() - started)


def run(task: Task, argv: list | None = None) -> int:
    settings, previous, checkpoint = start(task, argv)
    if settings.run.seeds:
        seeds = [int(seed) for seed in settings.run.seeds.split(",")]
        return run_seeds(task.name, sys.argv[1:] if argv is None else argv, seeds, settings.training.output_dir,
                         settings.run.quiet)
    splits, data_changes = task.read(settings)
    settings = settle_data(settings, **data_changes)
    # --inspect_data reports dev/test labels that training lacks instead of stopping at the first
    labelled = {"train": splits["train"]} if settings.run.inspect_data and "train" in splits else splits
    prepared = task.prepare(labelled, settings, load_config(settings.model))
    config, tokenizer = task.config_and_tokenizer(splits, settings, prepared)
    task.check(splits, settings, config, tokenizer)
    measure, longer_means = task.measure(tokenizer, settings.data)
    max_length = choose_max_length(settings.data, tokenizer, config, splits.get("train", (None,))[0], measure, longer_means)
    settings = settle_data(settings, max_seq_length=max_length)  # saved with the run: evaluation uses the same
    inspect_data(task, splits, settings, prepared, measure, longer_means)
    if settings.run.inspect_data:
        return 0
    encoded = task.encode(splits, tokenizer, config, settings, prepared)
    settings = settle_data(settings, **task.settled_after_encoding(splits, encoded, settings, prepared))
    scorers = {split: task.scorer(split, splits, encoded, config, settings, prepared)
               for split, _ in task.evaluated_splits(splits)}
    main_metric = task.main_metric(settings, prepared)
    settings = settle_schedule(settings, main_metric, "validation" in encoded)
    make_model = task.model_factory(settings, config)
    model = make_model()
    plan = plan_speed(model, settings.run, settings.training, encoded.get("train"), task.token_level,
                      settings.why_precision, settings.why_attention)
    validation = scorers.get("validation")
    parts = TrainerParts(
        tokenizer, task.collator(tokenizer, padding_options(settings.data, settings.training, max_length)), encoded,
        (lambda prediction: validation.score(prediction).metrics) if validation is not None else None, main_metric,
        {"compute_loss_func": task.loss(settings, encoded.get("train"), config, prepared, plan)},
    )
    if settings.run.hp_search_trials and settings.training.do_train:
        parts.options.update(task.trainer_options(None))
        best = search_hyperparameters(settings, make_model, parts, plan, task.search_space_extras(config),
                                      task.rows_per_example(prepared))
        settings = settle_search(settings, best)
        model = task.model_factory(settings, config)()  # a fresh model, with the winners (a CRF or not)
        plan = plan_speed(model, settings.run, settings.training, encoded.get("train"), task.token_level,
                          settings.why_precision, settings.why_attention)
    parts.options.update(task.trainer_options(model))
    log_plan(plan)
    resolved_config = resolved_config_text(settings, task.script)  # settled: nothing changes them from here
    trainer = build_trainer(settings.run, settings.training, model, parts, plan)
    train_metrics = previous  # a finished run's figures are kept, not replaced by a 0-step resume
    if settings.training.do_train:
        if trainer.is_world_process_zero():
            output_dir = settings.training.output_dir
            save_run_arguments(output_dir, task.name, settings.data, settings.training,
                               settings.model.model_name_or_path, describe_hardware(settings.training))
            atomic_write(os.path.join(output_dir, RUN_CONFIG_FILE), resolved_config)
        train_metrics = train_and_save(trainer, checkpoint, size_or_none(splits["train"][0]))
    evaluations = [
        Evaluation(prefix, encoded[split], scorers[split], len(splits[split][0]),
                   lambda output_dir, scored, split=split, prefix=prefix: task.write_outputs(
                       split, prefix, output_dir, scored, splits, config, settings, prepared))
        for split, prefix in task.evaluated_splits(splits)
    ]
    with evaluated_with(trainer, evaluation_model(trainer, settings, tokenizer, main_metric)):
        summary, scored = run_evaluations(trainer, evaluations, plan.sorted_evaluation.on,
                                          settings.run.bootstrap_resamples)
    finish_run(trainer, settings.run, settings.model, settings.data, task, prepared.labels, train_metrics,
               summary, main_metric, scored)
    return 0
