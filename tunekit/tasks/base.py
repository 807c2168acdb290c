"""What a task supplies, from reading its data to answering a request: the interface every task implements.

The pipeline (pipeline.run) owns the training sequence and asks the task for typed values: its data with labels
(`read` -> TaskData), the config and tokenizer (`model_inputs`), how examples are measured (`lengths` -> Lengths),
the model inputs (`encode` -> Encoded), the parts to train with (`recipe` -> Recipe) and the splits to score with
their writers (`evaluations` -> list[SplitEvaluation]). eval.sh, predict.sh, serve.sh, the page and the card ask the
task of a saved folder (the registry, tasks/__init__.py) for a predictor (`predictor` ->
inference.predictor.Predictor) and for what the card says (`card` -> CardText). No
module outside tasks/ tests a task's name. See docs/ARCHITECTURE.md for adding one.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from tunekit.config.resolve import Settings
from tunekit.data.report import LabelKind
from tunekit.evaluation.run import SplitEvaluation
from tunekit.outputs.model_card import CardText
from tunekit.outputs.report_page import SplitSections
from tunekit.training.speed.switch import SpeedSupport

if TYPE_CHECKING:
    import torch
    from transformers import PretrainedConfig, PreTrainedTokenizerBase

    from tunekit.inference.predictor import Predictor, PredictorOptions
    from tunekit.encoding.partial_labels import RunCorpora
    from tunekit.training.objective import GoldLoss
    from tunekit.training.soft_targets import SoftTargets
    from tunekit.training.speed.switch import SpeedPlan

Splits = dict  # split name -> (datasets.Dataset or IterableDataset, where it came from)


@dataclass(frozen=True)
class TaskData:
    """A task's data after reading: every split with where it came from, the label set (None for regression), the
    config changes it implies, the kind of labels (for the data report), data arguments to settle (a Hub name) and
    the run's corpora where it reads several."""

    splits: Splits
    labels: Optional[list]
    config_overrides: dict
    finetuning_task: str
    label_kind: LabelKind
    settled: dict = field(default_factory=dict)
    problem_type: Optional[str] = None  # classification's: single-label, multi-label or regression
    corpora: "Optional[RunCorpora]" = None  # the run's corpora (--corpora), for encoding, training and scoring


@dataclass(frozen=True)
class Lengths:
    """How a task counts an example's word pieces (for --max_seq_length auto and the data report), and what
    happens to longer examples."""

    pieces: Callable[[dict], list]
    longer_means: str


@dataclass(frozen=True)
class Encoded:
    """Every split as model inputs (input_ids, labels, length, ...), the documents a split was read as (NER with
    --document_context) and the training arguments encoding decided."""

    splits: dict
    documents: dict = field(default_factory=dict)
    rows_per_example: float = 1.0  # model inputs per training example, where encoding groups or splits them
    settled: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Recipe:
    """The parts to train with: batch collator, the score that picks the best checkpoint, a model factory (a search
    trial may choose parts of the model), the gold loss for a speed plan (training/objective.GoldLoss; None: the
    model's own), Trainer options for a model, and whether a search may also try a CRF."""

    collator: Any
    main_metric: str
    make_model: "Callable[..., torch.nn.Module]"
    loss: "Callable[[SpeedPlan], Optional[GoldLoss]]"
    trainer_options: "Callable[[Optional[torch.nn.Module]], dict]"
    search_crf: bool = False


class Task:
    """The interface; tasks/ner.py and tasks/classification.py implement it."""

    name: str  # its one name: in saved folders, the console command and the registry (tasks/__init__.py)
    data_arguments: type  # the dataclass of the task's data flags
    speed: SpeedSupport  # which length and loss techniques fit its labels
    card: CardText  # what the model card says that differs between tasks
    sections: SplitSections  # what report.html shows of a scored split (outputs/report_page.py)
    # the class that loads a saved folder (a teacher to distil); None: the task's folders are not teachers
    model_class: "Optional[Callable[[PretrainedConfig], type]]" = None

    def soft_targets(self, model: "torch.nn.Module", settings: Settings) -> "Optional[SoftTargets]":
        """What a model of this task teaches as a teacher and learns as a student (training/soft_targets.py: token
        distributions, CRF marginals, class distributions, label probabilities, values); None: the task cannot be
        distilled."""
        return None

    def read(self, settings: Settings, base_config: "PretrainedConfig") -> TaskData:
        """Every split, the label set and the config changes it implies; checks of the data as a whole."""
        raise NotImplementedError

    def model_inputs(self, data: TaskData, settings: Settings) -> "tuple[PretrainedConfig, PreTrainedTokenizerBase]":
        """(model config with the labels, tokenizer), checked against the settings this task cannot run with."""
        raise NotImplementedError

    def lengths(self, tokenizer: "PreTrainedTokenizerBase", data_args: Any) -> Lengths:
        raise NotImplementedError

    def encode(self, data: TaskData, tokenizer: "PreTrainedTokenizerBase", config: "PretrainedConfig",
               settings: Settings) -> Encoded:
        raise NotImplementedError

    def recipe(self, data: TaskData, encoded: Encoded, config: "PretrainedConfig",
               tokenizer: "PreTrainedTokenizerBase", settings: Settings) -> Recipe:
        raise NotImplementedError

    def evaluations(self, data: TaskData, encoded: Encoded, config: "PretrainedConfig",
                    settings: Settings) -> list[SplitEvaluation]:
        """The splits scored after training, in order (dev before test: test may use what dev decided)."""
        raise NotImplementedError

    def predictor(self, folder: str, options: "PredictorOptions") -> "Predictor":
        """What predict.sh and the server predict with: the folder's model, read as it was trained."""
        raise NotImplementedError


def trained_labels_only(splits: Splits, settings: Settings) -> Splits:
    """The splits whose labels make the label set: all, except that --inspect_data reports the dev/test labels that
    training lacks instead of stopping at the first."""
    return {"train": splits["train"]} if settings.run.inspect_data and "train" in splits else splits


def default_config_and_tokenizer(data: TaskData, settings: Settings,
                                 **tokenizer_options: Any) -> "tuple[PretrainedConfig, PreTrainedTokenizerBase]":
    """The model's own config (with the labels) and tokenizer."""
    from tunekit.modeling.loading import load_config, load_tokenizer

    config = load_config(settings.model, finetuning_task=data.finetuning_task, **data.config_overrides)
    return config, load_tokenizer(settings.model, config, **tokenizer_options)
