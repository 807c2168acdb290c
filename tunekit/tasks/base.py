"""What a task supplies to the pipeline (pipeline.run): the small interface every task implements.

The pipeline owns the sequence (arguments, read, labels, model, encode, train, evaluate, write); a task answers
the questions whose answers differ between tasks. See docs/ARCHITECTURE.md for adding one.
"""

from dataclasses import dataclass, field
from typing import Callable, Optional

from tunekit.evaluation.scored import Scored


@dataclass
class Prepared:
    """What a task decided after reading its data: the labels (None for regression), the config changes that
    go with them, and anything else its later steps need (problem type, ...)."""

    labels: Optional[list]
    config_overrides: dict
    finetuning_task: str
    extra: dict = field(default_factory=dict)


class Task:
    """The interface; tasks/ner.py and tasks/glue.py implement it."""

    name: str  # saved in tunekit_args.json: "ner" or "glue"
    script: str  # the repository's script that runs it (named in run_config.yaml)
    data_arguments: type  # the dataclass of the task's data flags
    token_level: bool  # one label per word (packing, equal-token batches, per-token loss) or per text

    def read(self, settings) -> tuple[dict, dict]:
        """(split -> (Dataset, where it came from), data-argument changes to settle, e.g. a Hub dataset name)."""
        raise NotImplementedError

    def prepare(self, splits: dict, settings, base_config) -> Prepared:
        """The label set and the config changes it implies; checks of the data as a whole."""
        raise NotImplementedError

    def tokenizer_options(self) -> dict:
        """Keyword arguments of modeling.loading.load_tokenizer (e.g. words_pre_split)."""
        return {}

    def config_and_tokenizer(self, splits: dict, settings, prepared: Prepared) -> tuple:
        """(model config with the labels, tokenizer): the model's own, unless the task builds them from the data."""
        from tunekit.modeling.loading import load_config, load_tokenizer

        config = load_config(settings.model, finetuning_task=prepared.finetuning_task, **prepared.config_overrides)
        return config, load_tokenizer(settings.model, config, **self.tokenizer_options())

    def check(self, splits: dict, settings, config, tokenizer) -> None:
        """Raise a UserError for a combination of settings this task cannot run (after config and tokenizer)."""

    def measure(self, tokenizer, data_args) -> tuple[Callable, str]:
        """(batch -> word pieces per example, what happens to longer ones), for --max_seq_length auto."""
        raise NotImplementedError

    def encode(self, splits: dict, tokenizer, config, settings, prepared: Prepared) -> dict:
        """split -> encoded Dataset (input_ids, labels, length, ...)."""
        raise NotImplementedError

    def settled_after_encoding(self, splits: dict, encoded: dict, settings, prepared: Prepared) -> dict:
        """Argument changes (training and data fields) that encoding decided, settled by the pipeline."""
        return {}

    def scorer(self, split: str, splits: dict, encoded: dict, config, settings, prepared: Prepared) -> object:
        """An object with score(EvalPrediction) -> Scored, for one evaluated split."""
        raise NotImplementedError

    def collator(self, tokenizer, padding: dict) -> object:
        raise NotImplementedError

    def main_metric(self, settings, prepared: Prepared) -> str:
        """The score that picks the best checkpoint and is drawn in the training curves."""
        raise NotImplementedError

    def loss(self, settings, train_dataset, config, prepared: Prepared, plan) -> object:
        """A Trainer compute_loss_func, or None for the model's own loss (plan: the run's SpeedPlan)."""
        raise NotImplementedError

    def model_factory(self, settings, config) -> Callable:
        """make_model(trial=None) -> a fresh model (a search trial may choose parts of it)."""
        raise NotImplementedError

    def search_space_extras(self, config) -> bool:
        """Whether the search may also try a CRF."""
        return False

    def rows_per_example(self, prepared: Prepared) -> float:
        """Model inputs per training example, where encoding groups or splits them (the search's batch sizes
        count examples)."""
        return 1.0

    def trainer_options(self, model) -> dict:
        """Extra keyword arguments of the Trainer (preprocess_logits_for_metrics, compute_loss_func changes)."""
        return {}

    def evaluated_splits(self, splits: dict) -> list[tuple[str, str]]:
        """(split, metric prefix) of every split scored after training, in order."""
        raise NotImplementedError

    def write_outputs(self, split: str, prefix: str, output_dir: str, scored: Scored, splits: dict, config,
                      settings, prepared: Prepared) -> None:
        """The files one scored split leaves beside its results (reports, charts, predictions)."""
