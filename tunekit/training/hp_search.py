"""--hp_search_trials N: Trainer.hyperparameter_search with optuna, a table of the trials, and the best values
that the final training then uses."""

import dataclasses
import logging
import os
from typing import TYPE_CHECKING, Callable

from transformers import IntervalStrategy

from tunekit.errors import UserError
from tunekit.files import atomic_write, write_json

if TYPE_CHECKING:
    from transformers import TrainingArguments

logger = logging.getLogger("tunekit")
TRIALS_FILE = "hp_search_trials.tsv"
BEST_FILE = "hp_search_best.json"


def batch_rows(examples: int, rows_per_example: float) -> int:
    """The batch of model inputs that holds about `examples` examples (--document_context: windows per sentence)."""
    return max(1, round(examples * rows_per_example))


def search_space(with_crf: bool, rows_per_example: float = 1.0) -> 'Callable':
    """Learning rate, batch size (in examples), epochs, warmup and weight decay (and CRF on/off for NER)."""

    def space(trial):
        batch = trial.suggest_categorical("per_device_train_batch_size", [8, 16, 32, 64])
        values = {
            "learning_rate": trial.suggest_float("learning_rate", 1e-5, 3e-4, log=True),
            "per_device_train_batch_size": batch_rows(batch, rows_per_example),
            "num_train_epochs": trial.suggest_int("num_train_epochs", 1, 5),
            # transformers 5 reads a warmup_steps below 1 as a share of the training steps
            "warmup_steps": trial.suggest_float("warmup_ratio", 0.0, 0.2),
            "weight_decay": trial.suggest_float("weight_decay", 0.0, 0.1),
        }
        if with_crf:
            values["use_crf"] = trial.suggest_categorical("use_crf", [False, True])
        return values

    return space


def search_arguments(training_args) -> 'TrainingArguments':
    """The trials' TrainingArguments: no checkpoints, no best-model reloading, in a subfolder."""
    return dataclasses.replace(
        training_args,
        output_dir=os.path.join(training_args.output_dir, "hp_search"),
        save_strategy=IntervalStrategy.NO,
        load_best_model_at_end=False,
        report_to=[],
        warmup_steps=0.0,  # Trainer casts each trial's value to the type of the current one: keep it a float
    )


def run_search(trainer, trials: int, main_metric: str, space, output_dir: str) -> dict:
    """Run the trials, write the table and the best values into output_dir; returns the best values."""
    try:
        import optuna
    except ImportError:
        raise UserError("--hp_search_trials needs optuna: pip install optuna") from None
    metric = main_metric if main_metric.startswith("eval_") else f"eval_{main_metric}"
    maximize = not metric.endswith("loss")
    storage = optuna.storages.InMemoryStorage()

    def objective(metrics: dict):
        if metric not in metrics:
            raise UserError(f"--hp_search_trials: the evaluation reports no {metric} (it has {', '.join(metrics)})")
        return metrics[metric]

    best = trainer.hyperparameter_search(
        hp_space=space, n_trials=trials, direction="maximize" if maximize else "minimize", backend="optuna",
        compute_objective=objective, storage=storage, study_name="tunekit",
        sampler=optuna.samplers.TPESampler(seed=trainer.args.seed),
    )
    if trainer.is_world_process_zero():
        study = optuna.load_study(study_name="tunekit", storage=storage)
        atomic_write(os.path.join(output_dir, TRIALS_FILE), trials_table(study, metric))
        write_json(os.path.join(output_dir, BEST_FILE), {"trial": int(best.run_id), metric: best.objective, **best.hyperparameters})
    logger.info("Best trial %s: %s = %.4f with %s", best.run_id, metric, best.objective, best.hyperparameters)
    return best.hyperparameters


def trials_table(study, metric: str) -> str:
    """One tab-separated row per trial: number, state, the metric, seconds, then every searched value."""
    names = sorted({name for trial in study.trials for name in trial.params})
    rows = ["\t".join(["trial", "state", metric, "seconds"] + names)]
    for trial in study.trials:
        seconds = (trial.datetime_complete - trial.datetime_start).total_seconds() if trial.datetime_complete else ""
        value = f"{trial.value:.6g}" if trial.value is not None else ""
        params = [f"{trial.params[n]:.6g}" if isinstance(trial.params.get(n), float) else str(trial.params.get(n, ""))
                  for n in names]
        rows.append("\t".join([str(trial.number), trial.state.name, value, f"{seconds:.0f}" if seconds != "" else ""] + params))
    return "\n".join(rows) + "\n"
