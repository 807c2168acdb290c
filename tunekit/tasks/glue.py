"""Sequence classification (single texts, pairs, regression, multi-label): what differs from other tasks, for the
pipeline (pipeline.run)."""

import logging

from transformers import AutoModel, AutoModelForSequenceClassification, DataCollatorWithPadding

from tunekit import pipeline
from tunekit.data.example_data import (
    check_same_shape,
    hub_dataset_of,
    load_examples,
    piece_counts,
    problem_type_of,
    resolve_labels,
)
from tunekit.data.sources import column_values, first_record
from tunekit.data.vocabulary import warn_about_unknown_words
from tunekit.data.problem_types import MULTI_LABEL, REGRESSION, SINGLE
from tunekit.encoding.classification import ClassificationEncoder
from tunekit.encoding.splits import encode_splits
from tunekit.errors import UserError
from tunekit.evaluation.classification_scorer import ClassificationScorer
from tunekit.folder import THRESHOLDS_FILE
from tunekit.evaluation.thresholds import Thresholds, saved_thresholds, write_thresholds
from tunekit.modeling.loading import hub_options, label_maps, load_model, model_path
from tunekit.modeling.pooling import pooling_settings, saved_classifier_class, trained_pooling, with_pooling
from tunekit.outputs.classification_files import write_confusion, write_predictions
from tunekit.evaluation.scored import Scored
from tunekit.tasks.base import Prepared, Task
from tunekit.tasks.glue_arguments import GlueDataArguments
from tunekit.splits import prefix_of
from tunekit.training.losses import loss_function


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


class SequenceClassification(Task):
    name = "glue"
    script = "run_glue.py"
    data_arguments = GlueDataArguments
    token_level = False

    def read(self, settings) -> tuple:
        hub = hub_dataset_of(settings.data)
        data_args = settings.with_changes(data=hub).data if hub else settings.data
        examples = load_examples(data_args, settings.model, settings.training)
        check_same_shape(examples)
        if settings.data.sentence_pooling == "auto":
            hub = dict(hub, sentence_pooling=sentence_pooling_of(settings.model))
        return examples, hub

    def prepare(self, splits, settings, base_config) -> Prepared:
        problem_type = problem_type_of(splits, settings.data, base_config)
        if settings.data.tune_thresholds and problem_type != MULTI_LABEL:
            raise UserError(f"--tune_thresholds is for multi-label classification, and this data is "
                            f"{problem_type.replace('_', '-').replace('-classification', '')}")
        if settings.data.tune_thresholds and "validation" not in splits:
            raise UserError("--tune_thresholds tunes on dev: give a validation split (--do_eval with dev data)")
        labels = resolve_labels(splits, settings.data, base_config, problem_type)
        maps = label_maps(labels) if labels is not None else {"num_labels": 1}
        return Prepared(labels, {"problem_type": problem_type, **maps}, settings.data.output_name,
                        {"problem_type": problem_type})

    def check(self, splits, settings, config, tokenizer) -> None:
        if settings.training.should_log:
            warn_about_unknown_words(tokenizer, splits, "text_a", split_into_words=False)
        chunk_attention = chunks_pooled_by_the_model(settings.data) or (pooling_settings(config) or {}).get("chunks")
        if chunk_attention and settings.run.export_onnx:
            raise UserError("--export_onnx covers the sentence poolings, not --chunk_pooling attention (a text's chunks "
                            "are cut inside the model); export a model trained with mean or max chunk pooling")

    def measure(self, tokenizer, data_args) -> tuple:
        longer_means = "chunked" if data_args.long_text == "chunks" else f"truncated ({data_args.truncation_side})"
        return (lambda batch: piece_counts(tokenizer, batch)), longer_means

    def encode(self, splits, tokenizer, config, settings, prepared) -> dict:
        data_args = settings.data
        chunk_stride = data_args.chunk_stride if data_args.long_text == "chunks" else None
        encoded = {}
        for split, (dataset, source) in splits.items():
            pairs = first_record(dataset)["text_b"] is not None
            if chunk_stride is not None and pairs:
                raise UserError(f"{source}: --long_text chunks is for single texts; sentence pairs are truncated longest-first")
            if data_args.pair_encoding == "siamese" and not pairs:
                raise UserError(f"{source}: --pair_encoding siamese is for sentence pairs, and these are single texts")
            if data_args.pair_encoding == "siamese" and "token_type_ids" not in tokenizer.model_input_names:
                raise UserError("--pair_encoding siamese reads the two texts apart by their token_type_ids, which "
                                f"this model's tokenizer does not give ({type(tokenizer).__name__})")
            with_labels = any(len(labels) for labels in column_values(dataset, "labels"))
            encoder = ClassificationEncoder(
                tokenizer, data_args.max_seq_length, data_args.truncation_side, data_args.head_tokens,
                prepared.extra["problem_type"], config.label2id, with_labels, chunk_stride,
                join_chunks=chunks_pooled_by_the_model(data_args),
            )
            encoded.update(encode_splits({split: (dataset, source)}, encoder, data_args, settings.training, with_indices=True))
        return encoded

    def scorer(self, split: str, splits, encoded, config, settings, prepared) -> ClassificationScorer:
        return ClassificationScorer(
            prepared.extra["problem_type"], config.num_labels, encoded[split]["example_id"], settings.data.chunk_pooling,
            self.thresholds(settings, config, prepared), tune=settings.data.tune_thresholds and split == "validation",
        )

    def thresholds(self, settings, config, prepared) -> Thresholds:
        """The run's multi-label thresholds, one object for every split: those a trained folder saved when this
        run evaluates it (not when it trains it again), else 0.5 until dev tunes them."""
        if "thresholds" not in prepared.extra:
            saved = None
            if prepared.extra["problem_type"] == MULTI_LABEL and not settings.training.do_train:
                names = [config.id2label[i] for i in range(config.num_labels)]
                saved = saved_thresholds(settings.model.model_name_or_path, names)
            prepared.extra["thresholds"] = Thresholds(saved)
        return prepared.extra["thresholds"]

    def collator(self, tokenizer, padding) -> DataCollatorWithPadding:
        return DataCollatorWithPadding(tokenizer, **padding)

    def main_metric(self, settings, prepared) -> str:
        problem_type = prepared.extra["problem_type"]
        if problem_type == REGRESSION:
            return "pearson"
        if problem_type == MULTI_LABEL:
            return "f1"
        return "matthews_correlation" if settings.data.task_name == "cola" else "accuracy"

    def loss(self, settings, train_dataset, config, prepared, plan) -> object:
        problem_type = prepared.extra["problem_type"]
        if settings.run.class_weights is not None and problem_type != SINGLE:
            raise UserError(f"--class_weights is for single-label classification, not {problem_type.replace('_', '-')}")
        return loss_function(settings.run, train_dataset, config.label2id)

    def model_factory(self, settings, config) -> 'Callable':
        return lambda trial=None: load_classifier(settings.model, settings.data, config)

    def evaluated_splits(self, splits) -> list:
        evaluated = [(split, prefix_of(split)) for split in splits if split not in ("train", "test")]
        return evaluated + ([("test", "predict")] if "test" in splits else [])

    def write_outputs(self, split: str, prefix: str, output_dir: str, scored: Scored, splits, config, settings, prepared) -> None:
        problem_type = prepared.extra["problem_type"]
        thresholds = self.thresholds(settings, config, prepared).values
        if split == "test":
            write_predictions(output_dir, settings.data.output_name, scored, problem_type, config.id2label, thresholds)
        else:
            write_confusion(output_dir, prefix, scored, problem_type, config)
        if split == "validation" and settings.data.tune_thresholds and scored.metrics:
            names = [config.id2label[i] for i in range(config.num_labels)]
            write_thresholds(output_dir, names, thresholds,
                             {"f1_untuned": scored.metrics["f1_untuned"], "f1_tuned": scored.metrics["f1"]})
            logger.info("Thresholds tuned on dev (%s): micro F1 %.4f at 0.5, %.4f tuned", THRESHOLDS_FILE,
                        scored.metrics["f1_untuned"], scored.metrics["f1"])


TASK = SequenceClassification()


def run(argv: list | None = None) -> int:
    return pipeline.run(TASK, argv)
