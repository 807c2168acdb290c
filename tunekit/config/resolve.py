"""The resolve step: parsed arguments turned into the ones the run really uses, settled once, then read-only.

Every change goes through dataclasses.replace, so TrainingArguments (and our own classes) validate the result
themselves. Each settle_* function is called by the pipeline at the moment its facts are known (the hardware
at start, the data's lengths after reading, the main metric after the labels, the search winners after the
search); nothing changes the arguments after training starts. The settled values are written into the output
folder as run_config.yaml, which run_ner.py / run_glue.py accept as their only argument and which repeats the
run exactly.
"""

import dataclasses
import enum
import os
from dataclasses import dataclass
from typing import Generic, TypeVar

import torch
from transformers import IntervalStrategy, TrainingArguments

from tunekit.config.arguments import DataTrainingArguments, ModelArguments, RunArguments
from tunekit.errors import UserError
from tunekit.config.attention import attention_choice
from tunekit.config.precision import precision_settings

# Never written into a file that users share or commit.
SECRET_FIELDS = ("token", "hub_token")
LOCAL_PATHS = ("model_name_or_path", "config_name", "tokenizer_name", "data_dir", "train_file", "validation_file",
               "test_file", "label_file", "class_weights")


DataArguments = TypeVar("DataArguments", bound=DataTrainingArguments)


@dataclass(frozen=True)
class Settings(Generic[DataArguments]):
    """The four argument groups of a run (data: the task's own data-arguments class), and why the automatic choices
    came out as they did."""

    model: ModelArguments
    data: DataArguments
    run: RunArguments
    training: TrainingArguments
    why_precision: str = ""
    why_attention: str = ""

    @property
    def max_length(self) -> int:
        """--max_seq_length once settled (settle_data turns auto into a number)."""
        assert isinstance(self.data.max_seq_length, int), self.data.max_seq_length
        return self.data.max_seq_length

    @property
    def output_dir(self) -> str:
        """Where the run writes (parse_arguments refuses a run without one)."""
        assert self.training.output_dir is not None
        return self.training.output_dir

    def with_changes(self, model=None, data=None, run=None, training=None) -> "Settings":
        """A copy with fields of each group replaced (dicts of field -> value), each group revalidated."""
        groups = {"model": model, "data": data, "run": run, "training": training}
        changes = {name: dataclasses.replace(getattr(self, name), **values) for name, values in groups.items() if values}
        return dataclasses.replace(self, **changes)


def settle_start(model_args, data_args, run_args, training_args, terminal: bool) -> Settings:
    """Precision and attention for this hardware, and what the terminal shows (terminal: stderr is a tty)."""
    precision, why_precision = precision_settings(run_args.precision, training_args)
    attention, why_attention = attention_choice(model_args.attn_implementation)
    training = dict(precision)
    if not terminal or run_args.quiet:  # a log file gets lines only: a bar's redraws leave escape codes in it
        training["disable_tqdm"] = True
    if run_args.quiet:
        training["log_level"] = "error"
    if not torch.cuda.is_available() and training_args.dataloader_pin_memory:
        training["dataloader_pin_memory"] = False  # pinning needs an accelerator; avoids a warning per loader
    settings = Settings(model_args, data_args, run_args, training_args, why_precision, why_attention)
    return settings.with_changes(model={"attn_implementation": attention or "auto"}, training=training)


def settle_finished_run(settings: Settings) -> Settings:
    """A folder that already holds a trained model is evaluated, not trained again."""
    output_dir = settings.output_dir
    return settings.with_changes(model={"model_name_or_path": output_dir}, training={"do_train": False})


def settle_data(settings: Settings, **changes) -> Settings:
    """What reading and encoding the data decided: the automatic max length (an int from here on), a Hub dataset
    name, the batch rows of document windows; each change goes to the group that has the field."""
    data = {name: value for name, value in changes.items() if hasattr(settings.data, name)}
    training = {name: value for name, value in changes.items() if name not in data}
    return settings.with_changes(data=data, training=training)


def settle_schedule(settings: Settings, main_metric: str, has_validation: bool) -> Settings:
    """--early_stopping_patience: evaluate and save on one schedule, keep the best checkpoint, compare on the task's
    main metric, where the user left these open."""
    args, run_args = settings.training, settings.run
    if run_args.early_stopping_patience is None or not args.do_train:
        return settings
    if not has_validation:
        raise UserError("--early_stopping_patience needs validation data (--validation_file or a dev file in --data_dir)")
    eval_strategy, eval_steps = args.eval_strategy, args.eval_steps
    save_strategy, save_steps = args.save_strategy, args.save_steps
    if eval_strategy == IntervalStrategy.NO:
        eval_strategy = save_strategy if save_strategy in (IntervalStrategy.STEPS, IntervalStrategy.EPOCH) else IntervalStrategy.EPOCH
        if eval_strategy == IntervalStrategy.STEPS:
            eval_steps = save_steps
    if save_strategy == IntervalStrategy.NO:
        save_strategy, save_steps = eval_strategy, eval_steps or save_steps
    if save_strategy != eval_strategy:
        raise UserError(
            f"--early_stopping_patience keeps the best checkpoint, so --save_strategy ({save_strategy}) must "
            f"equal --eval_strategy ({eval_strategy})"
        )
    if eval_strategy == IntervalStrategy.STEPS and save_steps % (eval_steps or save_steps):
        raise UserError(f"--save_steps {save_steps} must be a multiple of --eval_steps {eval_steps}")
    metric = args.metric_for_best_model or main_metric
    greater = args.greater_is_better if args.greater_is_better is not None else not metric.endswith("loss")
    return settings.with_changes(training={
        "eval_strategy": eval_strategy, "eval_steps": eval_steps, "save_strategy": save_strategy,
        "save_steps": save_steps, "do_eval": True, "load_best_model_at_end": True,
        "metric_for_best_model": metric, "greater_is_better": greater,
    })


def settle_search(settings: Settings, best: dict) -> Settings:
    """The hyperparameter search's winners, where the final training reads them."""
    training, data = {}, {}
    for name, value in best.items():
        if name == "warmup_ratio":
            training["warmup_steps"] = float(value)
        elif hasattr(settings.training, name):
            training[name] = type(getattr(settings.training, name))(value)
        elif hasattr(settings.data, name):
            data[name] = value
    return settings.with_changes(training=training, data=data)


def resolved_values(settings: Settings) -> dict:
    """Every argument of the run that differs from its default (as the class itself fills it in), as plain values
    one config file can hold."""
    values = {}
    for group in (settings.model, settings.data, settings.run, settings.training):
        defaults = _default_instance(group)
        for item in dataclasses.fields(group):
            if not item.init or item.name in SECRET_FIELDS or item.name in values:
                continue
            value = _plain(getattr(group, item.name))
            if value != _plain(getattr(defaults, item.name)) or item.name == "output_dir":
                values[item.name] = value
    for name in LOCAL_PATHS:  # the file replays from any working directory
        if isinstance(values.get(name), str) and os.path.exists(values[name]):
            values[name] = os.path.abspath(values[name])
    return values


def resolved_config_text(settings: Settings, script: str) -> str:
    """run_config.yaml's text: the settled arguments, replayable with `python run_ner.py <file>`. Made before the
    Trainer exists (a TrainingArguments made for its defaults resets accelerate's state)."""
    import yaml

    header = f"# The settled arguments of this run: `python {script} this-file` repeats it.\n"
    return header + yaml.safe_dump(resolved_values(settings), sort_keys=True, allow_unicode=True)


def _default_instance(group):
    """The group's class with nothing given (TrainingArguments: only where to write and the device)."""
    if hasattr(group, "output_dir"):
        return type(group)(output_dir=group.output_dir, use_cpu=group.use_cpu)
    return type(group)()


def _plain(value):
    """Enums as their values, tuples as lists, paths as given: what yaml.safe_dump writes and the parser reads."""
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value
