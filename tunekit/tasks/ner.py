"""Token classification (NER, POS, chunking): arguments, data, training, evaluation and the predictions file."""

import logging
import os
import datasets
from seqeval.metrics import classification_report
from transformers import AutoModelForTokenClassification, DataCollatorForTokenClassification

from ..encoding.ner import NerEncoder, starts_inside, words_from_pieces
from ..crf import CrfForTokenClassification, is_crf, with_crf
from ..errors import UserError
from ..labels import resolve_label_set
from ..losses import loss_function
from ..metrics import load_local_metric
from ..metrics.seqeval.seqeval import SCHEMES
from .ner_arguments import TASK_COLUMNS, NerDataArguments
from ..lengths import choose_max_length
from ..modeling import label_maps, load_config, load_model, load_tokenizer
from ..outputs import atomic_write, chart_title
from ..readers import TokenReadOptions, read_token_file
from ..sources import load_hub_dataset, load_splits, size_or_none
from ..plots import confusion_chart, confusion_matrix, per_type_scores
from ..runner import (
    Evaluation,
    build_trainer,
    finish_run,
    padding_options,
    run_evaluations,
    search_hyperparameters,
    start_run,
    tokenize_splits,
)
from ..hardware import describe_hardware
from ..training import save_run_arguments, train_and_save
from ..vocabulary import warn_about_unknown_words

logger = logging.getLogger("tunekit")

SENTENCE_FEATURES = datasets.Features(
    {
        "tokens": datasets.Sequence(datasets.Value("string")),
        "tags": datasets.Sequence(datasets.Value("string")),
        "line": datasets.Value("int64"),
    }
)


def load_ner_model(model_args, use_crf, config):
    """The token classifier: a folder saved with --use_crf keeps its CRF; use_crf adds one to any other."""
    if is_crf(config):
        return load_model(CrfForTokenClassification, model_args, config)
    model = load_model(AutoModelForTokenClassification, model_args, config)
    return with_crf(model, config) if use_crf else model


def read_options(data_args, split):
    label_column = data_args.label_column
    if label_column is None and data_args.task_name != "ner":
        label_column = TASK_COLUMNS[data_args.task_name]
    return TokenReadOptions(
        file_format=data_args.file_format,
        label_column=label_column,
        text_field=data_args.text_column_name,
        label_field=data_args.label_column_name,
        strip_token_suffix=data_args.strip_token_suffix,
        labels_required=split != "test",
    )


def load_sentences(data_args, model_args, training_args):
    """split -> (Dataset of tokens/tags/line, where it came from) for the splits this run needs."""
    return load_splits(
        data_args,
        training_args,
        read_token_file,
        lambda split: read_options(data_args, split),
        SENTENCE_FEATURES,
        lambda: hub_sentences(data_args, model_args),
    )


def hub_sentences(data_args, model_args):
    """A Hub token-classification dataset converted to tokens/tags(strings)/line."""
    loaded = load_hub_dataset(data_args, model_args)
    token_column = data_args.text_column_name or "tokens"
    tag_column = data_args.label_column_name or f"{data_args.task_name}_tags"
    splits = {}
    for split, dataset in loaded.items():
        name = {"dev": "validation", "valid": "validation"}.get(split, split)
        for column in (token_column, tag_column):
            if column not in dataset.column_names:
                raise UserError(
                    f"{data_args.dataset_name}[{split}]: no column '{column}' (columns: {', '.join(dataset.column_names)})"
                )
        feature = dataset.features[tag_column]
        names = getattr(getattr(feature, "feature", None), "names", None)

        def convert(batch, indices, names=names):
            tags = [[names[t] if names else str(t) for t in row] for row in batch[tag_column]]
            return {"tokens": batch[token_column], "tags": tags, "line": [i + 1 for i in indices]}

        converted = dataset.map(
            convert, batched=True, with_indices=True, remove_columns=dataset.column_names, features=SENTENCE_FEATURES
        )
        splits[name] = (converted, f"{data_args.dataset_name}[{split}]")
    return splits


def order_ner_labels(occurrences):
    """Sorted, as the official run_ner.py does, so label ids match when users switch scripts."""
    return sorted(occurrences)


def warn_about_entity_starts(train, label2id):
    """Count training entities that start with I- (safe to train as B-) and warn once; True when any exist."""
    dataset, source = train
    count, first_line = 0, None
    for batch in dataset.iter(batch_size=2048):
        for line, tags in zip(batch["line"], batch["tags"]):
            starts = sum(starts_inside(tags, i) and "B-" + tags[i][2:] in label2id for i in range(len(tags)))
            if starts and first_line is None:
                first_line = line
            count += starts
    if count:
        logger.warning(
            "%s: %d entities start with an I- tag (first in the sentence at line %d); they are trained as B-. "
            "Gold labels used for scoring are not changed.", source, count, first_line,
        )
    return count > 0


class NerScorer:
    """compute_metrics for one encoded split: maps piece predictions back to words and scores them with seqeval."""

    def __init__(self, sentences, features, id2label, data_args):
        self.gold = sentences["tags"]
        self.word_counts = [len(tokens) for tokens in sentences["tokens"]]
        self.example_ids = features["example_id"]
        self.word_indices = features["word_index"]
        self.id2label = id2label
        self.data_args = data_args
        self.metric = load_local_metric("seqeval")
        self.predicted_words = None
        self.scores = {}

    def __call__(self, eval_prediction):
        self.predicted_words = words_from_pieces(
            eval_prediction.predictions, self.example_ids, self.word_indices, self.word_counts, self.id2label
        )
        if not any(self.gold):
            return {}
        scores = self.scores = self.metric.compute(
            predictions=self.predicted_words,
            references=self.gold,
            mode=self.data_args.seqeval_mode,
            scheme=self.data_args.seqeval_scheme,
        )
        metrics = {key: value for key, value in scores.items() if key.startswith("overall_")}
        metrics = {key.replace("overall_", ""): value for key, value in metrics.items()}
        if self.data_args.return_entity_level_metrics:
            for entity_type, values in scores.items():
                if isinstance(values, dict):
                    for name, value in values.items():
                        metrics[f"{entity_type}_{name}"] = value
        return metrics

    def word_types(self):
        """Entity type (without B-/I-) of every word, gold and predicted, for the confusion matrix."""
        gold = [tag.partition("-")[2] or tag for sentence in self.gold for tag in sentence]
        predicted = [tag.partition("-")[2] or tag for sentence in self.predicted_words for tag in sentence]
        return gold, predicted

    def report(self):
        """seqeval's per-type classification report of the last scoring, as text."""
        return classification_report(
            self.gold,
            self.predicted_words,
            digits=4,
            mode=self.data_args.seqeval_mode,
            scheme=SCHEMES.get(self.data_args.seqeval_scheme) if self.data_args.seqeval_scheme else None,
            zero_division=0,
        )


def argmax_logits(logits, labels):
    """Keep only the predicted label ids during evaluation, not the full logits."""
    del labels
    return logits.argmax(dim=-1)


def conll_predictions(sentences, predicted_words):
    """`word gold predicted` per word (or `word predicted` without gold), a blank line between sentences."""
    lines = []
    for tokens, gold, predicted in zip(sentences["tokens"], sentences["tags"], predicted_words):
        for index, token in enumerate(tokens):
            lines.append(f"{token} {gold[index]} {predicted[index]}" if gold else f"{token} {predicted[index]}")
        lines.append("")
    return "\n".join(lines) + "\n"


def run(argv=None):
    model_args, data_args, run_args, training_args, checkpoint, previous = start_run(NerDataArguments, argv)
    sentences = load_sentences(data_args, model_args, training_args)
    labels = resolve_label_set(sentences, "tags", data_args.label_file, load_config(model_args), order_ner_labels)
    config = load_config(model_args, finetuning_task=data_args.task_name, **label_maps(labels))
    tokenizer = load_tokenizer(model_args, config, words_pre_split=True)
    tokenizer.padding_side = "right"  # word alignment reads predictions from the left of each row
    if training_args.should_log:
        warn_about_unknown_words(tokenizer, sentences, "tokens", split_into_words=True)
    crf = data_args.use_crf or is_crf(config)
    if (crf or run_args.hp_search_trials) and run_args.class_weights:
        raise UserError("--class_weights works with the softmax classifier, not with --use_crf or --hp_search_trials")
    if (crf or run_args.hp_search_trials) and run_args.export_onnx:
        raise UserError("--export_onnx does not cover the CRF's Viterbi decoding; export a model trained without --use_crf")
    max_length = choose_max_length(
        data_args, tokenizer, config, sentences.get("train", (None,))[0],
        lambda batch: [len(ids) for ids in tokenizer(batch["tokens"], is_split_into_words=True)["input_ids"]],
        "split into overlapping windows",
    )
    data_args.max_seq_length = max_length  # saved with the run, so evaluation and prediction use the same
    window = max_length - tokenizer.num_special_tokens_to_add()
    if data_args.stride > window // 2:
        logger.info("--stride %d is more than half a window of %d word pieces: long sentences' windows overlap by %d",
                    data_args.stride, window, window // 2)
    encoded = {}
    for split in sentences:
        repair = split == "train" and warn_about_entity_starts(sentences["train"], config.label2id)
        encoder = NerEncoder(tokenizer, config.label2id, max_length, data_args.stride, data_args.label_all_tokens, repair)
        encoded.update(tokenize_splits({split: sentences[split]}, encoder, data_args, training_args, with_indices=True))
    scorers = {
        split: NerScorer(sentences[split][0], encoded[split], config.id2label, data_args)
        for split in ("validation", "test")
        if split in encoded
    }
    collator = DataCollatorForTokenClassification(tokenizer, **padding_options(data_args, training_args, max_length))
    loss = loss_function(run_args, encoded.get("train"), config.label2id, per_token=True)
    parts = (tokenizer, collator, encoded, scorers.get("validation"))

    def make_model(trial=None):
        use_crf = trial.params.get("use_crf", data_args.use_crf) if trial is not None else data_args.use_crf
        return load_ner_model(model_args, use_crf, config)

    search_hyperparameters(
        run_args, training_args, data_args, make_model, parts, "f1", with_crf=not is_crf(config),
        preprocess_logits_for_metrics=argmax_logits, compute_loss_func=loss, equal_token_batches=True,
        pack_sequences=run_args.pack_sequences,
    )
    model = make_model()
    trainer = build_trainer(
        run_args, training_args, model, *parts, "f1", preprocess_logits_for_metrics=argmax_logits,
        compute_loss_func=None if isinstance(model, CrfForTokenClassification) else loss, equal_token_batches=True,
        pack_sequences=run_args.pack_sequences,
    )
    train_metrics = previous  # a finished run's figures are kept, not replaced by a 0-step resume
    if training_args.do_train:
        if trainer.is_world_process_zero():
            save_run_arguments(
                training_args.output_dir, "ner", data_args, training_args, model_args.model_name_or_path,
                describe_hardware(training_args),
            )
        train_metrics = train_and_save(trainer, checkpoint, size_or_none(sentences["train"][0]))
    summary = run_evaluations(trainer, [evaluation(split, sentences, encoded, scorers) for split in scorers])
    finish_run(trainer, run_args, model_args, data_args, "ner", labels, train_metrics, summary, "f1")
    return 0


def evaluation(split, sentences, encoded, scorers):
    """What to score for one split, and the files it writes beside its results."""
    prefix = "eval" if split == "validation" else "predict"
    scorer = scorers[split]

    def write_outputs(output_dir, _):
        if any(scorer.gold):
            name = "eval" if prefix == "eval" else "test"
            atomic_write(os.path.join(output_dir, f"{name}_classification_report.txt"), scorer.report())
            per_type = {kind: values for kind, values in scorer.scores.items() if isinstance(values, dict)}
            if per_type:
                per_type_scores(per_type, os.path.join(output_dir, f"{name}_entity_scores.png"),
                                chart_title(output_dir, prefix, "scores per entity type"))
            gold_types, predicted_types = scorer.word_types()
            types = sorted(set(gold_types) | set(predicted_types), key=lambda t: (t == "O", t))
            counts = confusion_matrix(gold_types, predicted_types, types)
            confusion_chart(counts, types, os.path.join(output_dir, f"{name}_confusion_matrix.png"),
                            chart_title(output_dir, prefix, "entity types per word"))
        if split == "test":
            text = conll_predictions(sentences[split][0], scorer.predicted_words)
            atomic_write(os.path.join(output_dir, "predictions.txt"), text)

    return Evaluation(prefix, encoded[split], scorer, len(sentences[split][0]), write_outputs)
