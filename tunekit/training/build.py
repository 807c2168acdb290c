"""Building the Trainer of a run: the model prepared (freezing, the speed plan's model-level techniques), the
callbacks, the evaluation split in length order, and the hyperparameter search before the final training."""

import dataclasses
import logging

import torch

from tunekit.errors import UserError
from tunekit.training.interruption import StopOnSignal
from tunekit.training.speed.length_order import in_order_scorer, sorted_by_length
from tunekit.training.terminal import ReadableLogLines, use_readable_logs
from tunekit.training.early_stopping import early_stopping_callbacks
from tunekit.training.hp_search import batch_rows, run_search, search_arguments, search_space
from tunekit.training.optimization import freeze
from tunekit.training.run_folder import UsualPermissionsForCheckpoints
from tunekit.training.speed.switch import apply_to_model
from tunekit.training.trainer import TunekitTrainer

logger = logging.getLogger("tunekit")


def prepared_model(model: torch.nn.Module, run_args, plan) -> torch.nn.Module:
    """The model with --freeze_* applied (logged) and the plan's model-level techniques."""
    apply_to_model(plan, model)
    frozen = freeze(model, run_args.freeze_encoder, run_args.freeze_embeddings, run_args.freeze_layers)
    if frozen:
        logger.info("Frozen: %d of %d parameters", frozen, sum(p.numel() for p in model.parameters()))
    return model


@dataclasses.dataclass
class TrainerParts:
    """What every Trainer of a run shares: tokenizer, collator, encoded splits, the validation scorer's metrics
    function, the main metric and the task's extra Trainer options."""

    tokenizer: object
    collator: object
    encoded: dict
    compute_metrics: object
    main_metric: str
    options: dict


def build_trainer(run_args, training_args, model, parts: TrainerParts, plan) -> TunekitTrainer:
    """A Trainer on the train and validation splits (the latter length-sorted when the plan says so, scored in
    input order); model is a module, or a function of a search trial that builds a fresh one."""
    model_init = None
    if isinstance(model, torch.nn.Module):
        model = prepared_model(model, run_args, plan)
    else:
        make_model, model = model, None

        def model_init(trial=None):
            return prepared_model(make_model(trial), run_args, plan)

    callbacks = early_stopping_callbacks(run_args, training_args)
    callbacks += [UsualPermissionsForCheckpoints(), StopOnSignal()]
    eval_dataset, order = sorted_by_length(parts.encoded.get("validation"), plan.sorted_evaluation.on)
    trainer = TunekitTrainer(
        model=model,
        model_init=model_init,
        args=training_args,
        train_dataset=parts.encoded.get("train"),
        eval_dataset=eval_dataset,
        processing_class=parts.tokenizer,
        data_collator=parts.collator,
        compute_metrics=in_order_scorer(parts.compute_metrics, order),
        callbacks=callbacks,
        speed=plan,
        head_learning_rate=run_args.head_learning_rate,
        layerwise_lr_decay=run_args.layerwise_lr_decay,
        **parts.options,
    )
    use_readable_logs(trainer)
    if run_args.quiet:
        trainer.remove_callback(ReadableLogLines)
    return trainer


def search_hyperparameters(settings, make_model, parts: TrainerParts, plan, with_crf: bool,
                           rows_per_example: float = 1.0) -> dict:
    """--hp_search_trials N: N optuna trials on fresh models, the trial table written to the output folder;
    returns the best values (settled into the arguments by config/resolve.settle_search). Batch sizes are searched
    in examples: each trial and the winner train on the model inputs that hold that many."""
    if "validation" not in parts.encoded:
        raise UserError("--hp_search_trials needs validation data to compare the trials")
    trial_run_args = dataclasses.replace(settings.run, early_stopping_patience=None)
    trainer = build_trainer(trial_run_args, search_arguments(settings.training), make_model, parts, plan.for_search_trials())
    space = search_space(with_crf, rows_per_example)
    best = run_search(trainer, settings.run.hp_search_trials, parts.main_metric, space, settings.output_dir)
    if "per_device_train_batch_size" in best:
        best = dict(best, per_device_train_batch_size=batch_rows(best["per_device_train_batch_size"], rows_per_example))
    return best
