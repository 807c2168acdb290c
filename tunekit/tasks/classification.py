"""Sequence classification (single texts, pairs, regression, multi-label): the task from reading labelled texts to
answering a request with labels."""

import logging
from typing import TYPE_CHECKING, cast

from transformers import (
    AutoModel,
    AutoModelForSequenceClassification,
    DataCollatorWithPadding,
    PretrainedConfig,
    PreTrainedTokenizerBase,
)

from tunekit.config.resolve import Settings
from tunekit.data.example_data import (
    check_same_shape,
    hub_dataset_of,
    load_examples,
    piece_counts,
    problem_type_of,
    resolve_labels,
)
from tunekit.data.problem_types import MULTI_LABEL, REGRESSION, SINGLE
from tunekit.data.report import LabelKind
from tunekit.data.sources import column_values, first_record
from tunekit.data.vocabulary import warn_about_unknown_words
from tunekit.encoding.classification import ClassificationEncoder
from tunekit.encoding.splits import encode_splits, padding_options
from tunekit.encoding.unlabelled import with_unlabelled_examples
from tunekit.errors import UserError
from tunekit.evaluation.classification_scorer import ClassificationScorer
from tunekit.evaluation.thresholds import Thresholds, saved_thresholds, write_thresholds
from tunekit.folder import THRESHOLDS_FILE
from tunekit.inference.classification import ClassificationPredictor
from tunekit.inference.predictor import PredictorOptions, load_folder
from tunekit.modeling.loading import hub_options, label_maps, load_model, model_path
from tunekit.modeling.pooling import (
    pooling_settings,
    saved_classifier_class,
    trained_pooling,
    with_pooling,
)
from tunekit.outputs.classification_files import write_confusion, write_predictions
from tunekit.outputs.model_card import CardText
from tunekit.outputs.report_page import label_sections
from tunekit.splits import prefix_of
from tunekit.tasks.base import (
    Encoded,
    Lengths,
    Recipe,
    SplitEvaluation,
    Task,
    TaskData,
    default_config_and_tokenizer,
    trained_labels_only,
)
from tunekit.tasks.classification_arguments import ClassificationDataArguments
from tunekit.training.soft_targets import ClassDistributions, LabelProbabilities, SoftTargets, Values
from tunekit.training.losses import BinaryCrossEntropyLoss, CrossEntropyLoss, SquaredErrorLoss, loss_function
from tunekit.training.speed.switch import SpeedSupport

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel


def load_classifier(model_args, data_args, config) -> 'PreTrainedModel':
    """The classifier: a folder saved with our pooling keeps it; --sentence_pooling other than cls or --chunk_pooling
    attention put it on the encoder; otherwise the model's own classification head."""
    if pooling_settings(config):
        return load_model(saved_classifier_class(config), model_args, config)
    chunk_length = data_args.max_seq_length if chunks_pooled_by_the_model(data_args) else None
    siamese = data_args.pair_encoding == "siamese"
    if data_args.sentence_pooling == "cls" and not chunk_length and not siamese:
        return load_model(AutoModelForSequenceClassification, model_args, config)
    encoder = load_model(AutoModel, model_args, config)
    return with_pooling(encoder, config, data_args.sentence_pooling, chunk_length, siamese)


def sentence_pooling_of(model_args) -> str:
    """--sentence_pooling auto: the pooling a sentence-transformers model was trained with (mean for the offline
    MiniLM), else the model's own classification head (cls)."""
    pooling = trained_pooling(model_path(model_args), hub_options(model_args)) or "cls"
    logger.info("--sentence_pooling auto: %s (%s)", pooling,
                "how the model was trained to pool" if pooling != "cls" else "the model's own classification head")
    return pooling


def chunks_pooled_by_the_model(data_args) -> bool:
    """--long_text chunks --chunk_pooling attention: a text's chunks go to the model as one row."""
    return data_args.long_text == "chunks" and data_args.chunk_pooling == "attention"


logger = logging.getLogger("tunekit")


EXAMPLE = "good value for money"


def usage(folder: str, remote_code: bool) -> str:
    trust = ", trust_remote_code=True" if remote_code else ""
    return f"""```python
from transformers import pipeline

# the path of this folder, or its Hub id once uploaded
classifier = pipeline("text-classification", model="{folder}"{trust})
print(classifier("{EXAMPLE}"))   # [{{'label': ..., 'score': ...}}]
```

Or from the command line: `echo "{EXAMPLE}" | sh scripts/predict.sh {folder}`"""


def limitations(data_args) -> list:
    return [f"- Texts longer than {data_args.max_seq_length} word pieces are truncated "
            f"({getattr(data_args, 'truncation_side', 'head')}) unless trained with --long_text chunks."]


def label_names(config) -> list:
    return [(config.id2label or {})[i] for i in range(config.num_labels or 0)]


# each problem's loss per item, where the run needs ours (class weights, row weights) instead of the model's own
ITEM_LOSSES = {SINGLE: CrossEntropyLoss, MULTI_LABEL: BinaryCrossEntropyLoss, REGRESSION: SquaredErrorLoss}


class SequenceClassification(Task):
    name = "classification"
    data_arguments = ClassificationDataArguments
    speed = SpeedSupport(equal_token_batches=False, no_packing="token classification only",
                         no_token_normaliser="sequence classification: the loss is a mean over examples")
    sections = staticmethod(label_sections)
    card = CardText("text-classification", "examples", usage, limitations)
    model_class = staticmethod(saved_classifier_class)

    def soft_targets(self, model: "torch.nn.Module", settings: Settings) -> SoftTargets:
        problem_type = cast(PretrainedConfig, model.config).problem_type or SINGLE
        return Values() if problem_type == REGRESSION else (
            LabelProbabilities() if problem_type == MULTI_LABEL else ClassDistributions())

    def read(self, settings: Settings[ClassificationDataArguments], base_config: PretrainedConfig) -> TaskData:
        hub = hub_dataset_of(settings.data)
        data_args = settings.with_changes(data=hub).data if hub else settings.data
        splits = load_examples(data_args, settings.model, settings.training)
        check_same_shape(splits)
        if settings.data.sentence_pooling == "auto":
            hub = dict(hub, sentence_pooling=sentence_pooling_of(settings.model))
        labelled = trained_labels_only(splits, settings)
        problem_type = problem_type_of(labelled, settings.data, base_config)
        if settings.data.tune_thresholds and problem_type != MULTI_LABEL:
            raise UserError(f"--tune_thresholds is for multi-label classification, and this data is "
                            f"{problem_type.replace('_', '-').replace('-classification', '')}")
        if settings.data.tune_thresholds and "validation" not in labelled:
            raise UserError("--tune_thresholds tunes on dev: give a validation split (--do_eval with dev data)")
        labels = resolve_labels(labelled, settings.data, base_config, problem_type)
        maps = label_maps(labels) if labels is not None else {"num_labels": 1}
        kind = LabelKind.NUMBERS if problem_type == REGRESSION else LabelKind.CLASSES
        return TaskData(splits, labels, {"problem_type": problem_type, **maps}, settings.data.output_name, kind,
                        hub or {}, problem_type)

    def model_inputs(self, data: TaskData, settings: Settings[ClassificationDataArguments]) -> tuple[PretrainedConfig, PreTrainedTokenizerBase]:
        config, tokenizer = default_config_and_tokenizer(data, settings)
        if settings.training.should_log:
            warn_about_unknown_words(tokenizer, data.splits, "text_a", split_into_words=False)
        chunk_attention = chunks_pooled_by_the_model(settings.data) or (pooling_settings(config) or {}).get("chunks")
        if chunk_attention and settings.run.export_onnx:
            raise UserError("--export_onnx covers the sentence poolings, not --chunk_pooling attention (a text's chunks "
                            "are cut inside the model); export a model trained with mean or max chunk pooling")
        return config, tokenizer

    def lengths(self, tokenizer: PreTrainedTokenizerBase, data_args: ClassificationDataArguments) -> Lengths:
        longer_means = "chunked" if data_args.long_text == "chunks" else f"truncated ({data_args.truncation_side})"
        return Lengths(lambda batch: piece_counts(tokenizer, batch), longer_means)

    def encode(self, data: TaskData, tokenizer: PreTrainedTokenizerBase, config: PretrainedConfig,
               settings: Settings[ClassificationDataArguments]) -> Encoded:
        data_args = settings.data
        chunk_stride = data_args.chunk_stride if data_args.long_text == "chunks" else None
        if settings.run.distill_text and data.problem_type not in (None, SINGLE):
            raise UserError(f"--distill_text adds texts to single-label classification, and this data is "
                            f"{data.problem_type.replace('_', '-').replace('-classification', '')}: its student learns "
                            "from the teacher on the labelled examples")

        def encoder(with_labels: bool) -> ClassificationEncoder:
            return ClassificationEncoder(
                tokenizer, data_args.max_seq_length, data_args.truncation_side, data_args.head_tokens,
                data.problem_type, config.label2id, with_labels, chunk_stride,
                join_chunks=chunks_pooled_by_the_model(data_args),
            )

        encoded = {}
        for split, (dataset, source) in data.splits.items():
            pairs = first_record(dataset)["text_b"] is not None
            if chunk_stride is not None and pairs:
                raise UserError(f"{source}: --long_text chunks is for single texts; sentence pairs are truncated longest-first")
            if data_args.pair_encoding == "siamese" and not pairs:
                raise UserError(f"{source}: --pair_encoding siamese is for sentence pairs, and these are single texts")
            if data_args.pair_encoding == "siamese" and "token_type_ids" not in tokenizer.model_input_names:
                raise UserError("--pair_encoding siamese reads the two texts apart by their token_type_ids, which "
                                f"this model's tokenizer does not give ({type(tokenizer).__name__})")
            with_labels = any(len(labels) for labels in column_values(dataset, "labels"))
            encoded.update(encode_splits({split: (dataset, source)}, encoder(with_labels), data_args, settings.training,
                                         with_indices=True))
            if split == "train" and settings.run.distill_text:
                encoded[split] = with_unlabelled_examples(encoded[split], settings.run.distill_text, pairs,
                                                          encoder(False), data_args, settings.training)
        return Encoded(encoded)

    def recipe(self, data: TaskData, encoded: Encoded, config: PretrainedConfig, tokenizer: PreTrainedTokenizerBase,
               settings: Settings[ClassificationDataArguments]) -> Recipe:
        problem_type = data.problem_type or SINGLE
        if settings.run.class_weights is not None and problem_type != SINGLE:
            raise UserError(f"--class_weights is for single-label classification, not {problem_type.replace('_', '-')}")
        if problem_type == REGRESSION:
            main_metric = "pearson"
        elif problem_type == MULTI_LABEL:
            main_metric = "f1"
        else:
            main_metric = "matthews_correlation" if settings.data.task_name == "cola" else "accuracy"
        return Recipe(
            DataCollatorWithPadding(tokenizer, **padding_options(settings.data, settings.training,
                                                                 settings.max_length)),
            main_metric, lambda trial=None: load_classifier(settings.model, settings.data, config),
            lambda plan: loss_function(settings.run, encoded.splits.get("train"), dict(config.label2id or {}),
                                       item_loss=ITEM_LOSSES[problem_type]),
            lambda model: {},
        )

    def evaluations(self, data: TaskData, encoded: Encoded, config: PretrainedConfig,
                    settings: Settings[ClassificationDataArguments]) -> list[SplitEvaluation]:
        """Dev splits, then test; with --tune_thresholds dev tunes the multi-label thresholds that test and the
        writers receive. A run that evaluates a trained folder starts from the thresholds it saved."""
        saved = None
        problem_type = data.problem_type or SINGLE
        if problem_type == MULTI_LABEL and not settings.training.do_train:
            saved = saved_thresholds(settings.model.model_name_or_path, label_names(config))
        start = Thresholds(saved)

        def evaluation(split: str, prefix: str) -> SplitEvaluation:
            tune = settings.data.tune_thresholds and split == "validation"

            def scorer(decided) -> ClassificationScorer:
                return ClassificationScorer(problem_type, len(label_names(config)), encoded.splits[split]["example_id"],
                                            settings.data.chunk_pooling, decided or start, tune=tune)

            def write(output_dir: str, scored) -> None:
                thresholds = (scored.decided or start).values
                if split == "test":
                    write_predictions(output_dir, settings.data.output_name, scored, problem_type,
                                      dict(config.id2label or {}), thresholds)
                else:
                    write_confusion(output_dir, prefix, scored, problem_type, config)
                if tune and scored.metrics and thresholds is not None:
                    write_thresholds(output_dir, label_names(config), thresholds,
                                     {"f1_untuned": scored.metrics["f1_untuned"], "f1_tuned": scored.metrics["f1"]})
                    logger.info("Thresholds tuned on dev (%s): micro F1 %.4f at 0.5, %.4f tuned", THRESHOLDS_FILE,
                                scored.metrics["f1_untuned"], scored.metrics["f1"])

            return SplitEvaluation(split, prefix, scorer, write)

        dev = [split for split in data.splits if split not in ("train", "test")]
        return [evaluation(split, prefix_of(split)) for split in dev + (["test"] if "test" in data.splits else [])]

    def predictor(self, folder: str, options: PredictorOptions) -> ClassificationPredictor:
        loaded = load_folder(folder, saved_classifier_class, options)
        config = loaded.model.config
        thresholds = saved_thresholds(folder, label_names(config)) if config.problem_type == MULTI_LABEL else None
        return ClassificationPredictor(loaded.model, loaded.tokenizer, loaded.max_length, loaded.data_args,
                                       options.batch_size, thresholds)


TASK = SequenceClassification()
