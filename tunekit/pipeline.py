"""run(task, argv): the one training sequence every task goes through, from the command line to the output folder.

arguments -> read (data and labels) -> model config and tokenizer -> encode -> (search) -> train -> evaluate -> write.
The task (tasks/base.py) answers what differs between tasks with typed values; the arguments are settled by
config/resolve.py at the points where their facts become known, and the speed path is decided once
(training/speed/switch.py). --seeds is not run here: programs/train.py runs the seeds, each a run of its own.
"""

import contextlib
import dataclasses
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
from tunekit.evaluation.run import run_evaluations
from tunekit.evaluation.runtime import evaluation_backend
from tunekit.modeling.loading import load_config
from tunekit.files import atomic_write
from tunekit.folder import OutputFolder
from tunekit.folder_lock import folder_lock
from tunekit.outputs.finish import finish_run
from tunekit.training.terminal import setup_logging
from tunekit import tasks
from tunekit.tasks.base import Lengths, Task, TaskData
from tunekit.training.distillation import cut_student, settle_student_model, teacher_folder, with_teacher
from tunekit.training.objective import objective_of
from tunekit.training.build import TrainerParts, build_trainer, search_hyperparameters
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


def start(task: Task, argv: list, held: contextlib.ExitStack) -> tuple[Settings, dict | None, str | None]:
    """Parse and settle the arguments, set up logging and the seed, take the output folder's lock (held until
    `held` closes: the caller's whole run) and decide whether this run resumes a checkpoint or re-evaluates a
    finished training: (settings, the finished run's train results, checkpoint)."""
    use_cpu_processes_without_accelerator()
    parsed = parse_arguments(task.data_arguments, argv)
    check_settings(*parsed)
    # One progress bar per phase, Trainer's: reading and tokenizing are logged as lines, loading shows no bar.
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    settings = settle_student_model(settle_start(*parsed, terminal=sys.stderr.isatty()))
    setup_logging(settings.training)
    if settings.run.quiet:
        logging.getLogger("tunekit").setLevel(logging.ERROR)
    set_seed(settings.training.seed)
    if settings.run.distill_from and settings.training.do_train:  # a wrong teacher stops before the data is read
        teacher_folder(settings.run.distill_from, task.name, tasks.of_folder)
    if settings.training.process_index == 0:  # one lock per launch: the main process writes the folder
        held.enter_context(folder_lock(settings.output_dir, "training" if settings.training.do_train else "evaluation",
                                       logger))
    if settings.run.inspect_data or settings.run.seeds:  # the report alone, or seed folders below this one
        return settings, None, None
    previous = finished_training(settings.training, settings.run)
    if previous is not None:
        evaluating = settings.training.do_eval or settings.training.do_predict
        logger.warning(
            "%s already holds a trained model (train_results.json): not training again%s. Pass "
            "--overwrite_output_dir to train afresh, or --resume_from_checkpoint checkpoint-N to continue.",
            settings.output_dir, ", evaluating the saved model" if evaluating else "",
        )
        if not evaluating:
            raise SystemExit(0)
        settings = settle_finished_run(settings)
    return settings, previous, checkpoint_to_resume(settings.training, settings.run)


def inspect_data(data: TaskData, settings: Settings, lengths: Lengths) -> None:
    """The data report (data/report.py): printed and written into the output folder by the main process."""
    if settings.training.process_index != 0:
        return
    started = time.perf_counter()
    report = data_report(data.splits, lengths.pieces, settings.data.max_seq_length, lengths.longer_means,
                         data.label_kind)
    earlier = read_data_report(settings.output_dir)
    if "train" not in report["splits"] and earlier is not None:  # an evaluation adds to what training wrote
        report = accumulated(earlier, report)
    text = write_data_report(settings.output_dir, report, data.label_kind)
    if not settings.run.quiet:
        print(f"\nData report ({OutputFolder(settings.output_dir).data_report('txt')}):\n{text}\n", flush=True)
    logger.info("Data report made in %.2f s", time.perf_counter() - started)


def run(task: Task, settings: Settings, previous: dict | None, checkpoint: str | None) -> int:
    """The run whose arguments start() settled: read, encode, train, evaluate, write."""
    data = task.read(settings, load_config(settings.model))
    settings = settle_data(settings, **data.settled)
    config, tokenizer = task.model_inputs(data, settings)
    lengths = task.lengths(tokenizer, settings.data)
    max_length = choose_max_length(settings.data, tokenizer, config, data.splits.get("train", (None,))[0],
                                   lengths.pieces, lengths.longer_means)
    settings = settle_data(settings, max_seq_length=max_length)  # saved with the run: evaluation uses the same
    inspect_data(data, settings, lengths)
    if settings.run.inspect_data:
        return 0
    encoded = task.encode(data, tokenizer, config, settings)
    settings = settle_data(settings, **encoded.settled)
    recipe = task.recipe(data, encoded, config, tokenizer, settings)
    evaluations = task.evaluations(data, encoded, config, settings)
    settings = settle_schedule(settings, recipe.main_metric, "validation" in encoded.splits)
    model, kept = recipe.make_model(), None
    if settings.training.do_train:
        model, kept = cut_student(model, settings)
    train_dataset = encoded.splits.get("train")
    plan = plan_speed(model, settings.run, settings.training, train_dataset, task.speed,
                      settings.why_precision, settings.why_attention)
    objective, teacher = objective_of(recipe.loss(plan), settings.run.objective_terms, settings), None
    if settings.training.do_train and settings.run.distill_from:
        objective, teacher = with_teacher(model, kept, tokenizer, settings, task.name, tasks.of_folder,
                                          lambda head: task.soft_targets(head, settings), task.model_class,
                                          objective)
    dev = next((evaluation for evaluation in evaluations if evaluation.split == "validation"), None)
    dev_scorer = dev.scorer(None) if dev is not None else None
    parts = TrainerParts(
        tokenizer, recipe.collator, encoded.splits,
        (lambda prediction: dev_scorer.score(prediction).metrics) if dev_scorer is not None else None,
        recipe.main_metric, {"training_objective": objective, **recipe.trainer_options(None)},
    )
    if settings.run.hp_search_trials and settings.training.do_train:
        best = search_hyperparameters(settings, recipe.make_model, parts, plan, recipe.search_crf,
                                      encoded.rows_per_example)
        settings = settle_search(settings, best)
        recipe = task.recipe(data, encoded, config, tokenizer, settings)
        model = recipe.make_model()  # a fresh model, with the winners (a CRF or not)
        plan = plan_speed(model, settings.run, settings.training, train_dataset, task.speed,
                          settings.why_precision, settings.why_attention)
        objective = objective_of(recipe.loss(plan), settings.run.objective_terms, settings)
    parts = dataclasses.replace(parts, options={"training_objective": objective, **recipe.trainer_options(model)})
    log_plan(plan)
    resolved_config = resolved_config_text(settings, tasks.script(task.name))  # settled: nothing changes them from here
    trainer = build_trainer(settings.run, settings.training, model, parts, plan)
    train_metrics = previous  # a finished run's figures are kept, not replaced by a 0-step resume
    if settings.training.do_train:
        if trainer.is_world_process_zero():
            output_dir = settings.output_dir
            save_run_arguments(output_dir, task.name, tasks.where(task), settings.data, settings.training,
                               settings.model.model_name_or_path, describe_hardware(settings.training),
                               {"distillation": teacher} if teacher else {})
            atomic_write(OutputFolder(output_dir).run_config, resolved_config)
        train_metrics = train_and_save(trainer, checkpoint, size_or_none(data.splits["train"][0]))
    with evaluation_backend(trainer, settings, tokenizer, recipe.main_metric):
        samples = {evaluation.split: len(data.splits[evaluation.split][0]) for evaluation in evaluations}
        summary, scored = run_evaluations(trainer, evaluations, encoded.splits, samples, plan.sorted_evaluation.on,
                                          settings.run.bootstrap_resamples)
    finish_run(trainer, settings.run, settings.model, settings.data, task.card, task.sections, tasks.script(task.name),
               data.labels, train_metrics, summary, recipe.main_metric, scored)
    return 0
