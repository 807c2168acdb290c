"""Sequence classification (single texts, pairs, regression, multi-label): GLUE tasks and the user's own files."""

import os

import datasets
from transformers import AutoModelForSequenceClassification, DataCollatorWithPadding

from ..encoding.classification import (
    MULTI_LABEL,
    REGRESSION,
    SINGLE,
    ClassificationEncoder,
    labels_and_probabilities,
    pool_chunks,
)
from ..errors import UserError, at
from ..labels import first_occurrences, resolve_label_set
from ..losses import loss_function
from ..metrics import load_local_metric
from ..lengths import choose_max_length
from ..modeling import label_maps, load_config, load_model, load_tokenizer
from ..outputs import atomic_write, chart_title
from ..readers.classification import ExampleReadOptions, read_classification_file
from ..plots import confusion_chart, confusion_matrix
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
from ..sources import (
    column_values,
    find_split_files,
    first_record,
    has_local_files,
    load_hub_dataset,
    load_splits,
    resolve_split_files,
    size_or_none,
)
from ..hardware import describe_hardware
from ..training import save_run_arguments, train_and_save
from ..vocabulary import warn_about_unknown_words
from .glue_arguments import GlueDataArguments
from .glue_tasks import EVAL_PREFIXES, HUB_SPLITS

EXAMPLE_FEATURES = datasets.Features(
    {
        "text_a": datasets.Value("string"),
        "text_b": datasets.Value("string"),
        "labels": datasets.Sequence(datasets.Value("string")),
        "label_list": datasets.Value("bool"),
        "line": datasets.Value("int64"),
    }
)


def read_options(data_args, split):
    task = data_args.glue_task
    columns = data_args.text_column_names.split(",") if data_args.text_column_names else None
    options = ExampleReadOptions(
        file_format=data_args.file_format,
        text_columns=[c.strip() for c in columns] if columns else None,
        label_column=data_args.label_column_name,
        has_header=data_args.has_header,
        labels_required=split != "test",
    )
    if task is not None and not data_args.text_column_names and has_local_files(data_args):
        is_test = split == "test"
        options.text_columns = list(task.test_text_columns or task.text_columns) if is_test else list(task.text_columns)
        options.label_column = None if is_test and task.test_text_columns else task.label_column
        options.has_header = True if is_test else task.has_header
    return options


def split_files(data_args):
    """GLUE folders name MNLI's dev sets dev_matched/dev_mismatched; everything else is found as usual."""
    task = data_args.glue_task
    if task is None or not data_args.data_dir or len(task.dev_files) == 1:
        return None
    files = {k: v for k, v in find_split_files(data_args.data_dir).items() if k != "validation"}
    for split, name in task.dev_files:
        path = os.path.join(data_args.data_dir, name)
        if os.path.exists(path):
            files[split] = path
    files.update({k: v for k, v in resolve_split_files(data_args).items() if k != "validation" or data_args.validation_file})
    return files


def load_examples(data_args, model_args, training_args):
    if data_args.glue_task is not None and not data_args.dataset_name and not has_local_files(data_args):
        data_args.dataset_name, data_args.dataset_config_name = "nyu-mll/glue", data_args.task_name
    return load_splits(
        data_args,
        training_args,
        read_classification_file,
        lambda split: read_options(data_args, split),
        EXAMPLE_FEATURES,
        lambda: hub_examples(data_args, model_args),
        files=split_files(data_args),
    )


def hub_examples(data_args, model_args):
    """A Hub classification dataset converted to text_a/text_b/labels/line."""
    loaded = load_hub_dataset(data_args, model_args)
    task = data_args.glue_task
    if data_args.text_column_names:
        text_columns = [c.strip() for c in data_args.text_column_names.split(",")]
    else:
        text_columns = list(task.hub_text_columns) if task else ["sentence"]
    label_column = data_args.label_column_name or "label"
    splits = {}
    for split, dataset in loaded.items():
        missing = [c for c in text_columns + [label_column] if c not in dataset.column_names]
        if missing:
            raise UserError(f"{data_args.dataset_name}[{split}]: no column {missing[0]} (columns: {', '.join(dataset.column_names)})")
        names = getattr(dataset.features[label_column], "names", None)

        def convert(batch, indices, names=names):
            labels = [[] if (names and value < 0) else [names[value] if names else str(value)] for value in batch[label_column]]
            return {
                "text_a": batch[text_columns[0]],
                "text_b": batch[text_columns[1]] if len(text_columns) > 1 else [None] * len(indices),
                "labels": labels,
                "label_list": [False] * len(indices),
                "line": [i + 1 for i in indices],
            }

        converted = dataset.map(convert, batched=True, with_indices=True, remove_columns=dataset.column_names, features=EXAMPLE_FEATURES)
        splits[HUB_SPLITS.get(split, split)] = (converted, f"{data_args.dataset_name}[{split}]")
    return splits


def is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_same_shape(examples):
    """Every split holds single texts, or every split holds pairs: a test file with another layout is an error."""
    firsts = {split: first_record(dataset) for split, (dataset, _) in examples.items()}
    shapes = {split: record["text_b"] is not None for split, record in firsts.items()}
    reference = "train" if "train" in shapes else next(iter(shapes))
    for split, (dataset, source) in examples.items():
        if shapes[split] != shapes[reference]:
            kind = "sentence pairs" if shapes[split] else "single texts"
            other = "pairs" if shapes[reference] else "single texts"
            raise at(source, firsts[split]["line"], f"{kind}, but the {reference} data has {other}")


def problem_type_of(examples, data_args, config):
    """Regression (asked for, STS-B, or float labels), multi-label (list labels), or single-label."""
    task = data_args.glue_task
    if data_args.do_regression or (task and task.regression):
        return REGRESSION
    if "train" not in examples:
        return getattr(config, "problem_type", None) or SINGLE
    train = examples["train"][0]
    if any(column_values(train, "label_list")):
        return MULTI_LABEL
    labels = set(first_occurrences(train, examples["train"][1], "labels"))
    if labels and all(is_number(label) for label in labels) and any("." in label for label in labels):
        return REGRESSION
    return SINGLE


def check_numeric_labels(examples):
    for split, (dataset, source) in examples.items():
        for label, (path, line) in first_occurrences(dataset, source, "labels").items():
            if not is_number(label):
                raise at(path, line, f"label '{label}' is not a number, and this is a regression task")


def order_labels(occurrences):
    """Numeric labels in numeric order (2 before 10), others sorted as strings."""
    labels = list(occurrences)
    return sorted(labels, key=float) if all(is_number(label) for label in labels) else sorted(labels)


def resolve_labels(examples, data_args, config, problem_type):
    """The label list (None for regression, whose labels must all be numbers)."""
    if problem_type == REGRESSION:
        check_numeric_labels(examples)
        return None
    return resolve_label_set(examples, "labels", data_args.label_file, config, order_labels)


class ClassificationScorer:
    """compute_metrics for one split's classification, regression or multi-label logits.

    When a split was cut into chunks, the logits of each text's chunks are pooled first.
    """

    def __init__(self, problem_type, num_labels, example_ids, pooling):
        self.problem_type = problem_type
        self.num_labels = num_labels
        self.example_ids = example_ids
        self.pooling = pooling
        module = {SINGLE: "classification", REGRESSION: "regression", MULTI_LABEL: "multilabel"}[problem_type]
        self.metric = load_local_metric(module)
        self.last = None  # (references, predictions) of the last single-label scoring

    def per_example(self, logits, label_ids=None):
        """Logits (and labels) with one row per input example, in input order."""
        if len(self.example_ids) == len(set(self.example_ids)):
            return logits, label_ids
        pooled, starts = pool_chunks(logits, self.example_ids, self.pooling)
        return pooled, (label_ids[starts] if label_ids is not None else None)

    def __call__(self, eval_prediction):
        logits, references = self.per_example(eval_prediction.predictions, eval_prediction.label_ids)
        if self.problem_type == REGRESSION:
            return self.metric.compute(predictions=logits[:, 0], references=references)
        if self.problem_type == MULTI_LABEL:
            return self.metric.compute(predictions=(logits > 0).astype(int), references=references.astype(int))
        predictions = logits.argmax(-1)
        self.last = (references.tolist(), predictions.tolist())
        return self.metric.compute(predictions=predictions, references=references, num_labels=self.num_labels)


def prediction_lines(logits, problem_type, id2label):
    """predict_results_<task>.txt: index, predicted label name (or value), and the class probabilities."""
    if problem_type == REGRESSION:
        return ["index\tprediction"] + [f"{i}\t{value:.6f}" for i, value in enumerate(logits[:, 0])]
    names = [id2label[i] for i in range(logits.shape[1])]
    header = "index\tprediction\t" + "\t".join(f"prob_{name}" for name in names)
    rows = [
        f"{i}\t{','.join(chosen)}\t" + "\t".join(f"{p:.6f}" for p in row)
        for i, (chosen, row) in enumerate(labels_and_probabilities(logits, problem_type, names))
    ]
    return [header] + rows


def piece_counts(tokenizer, batch):
    """Word pieces of each example (pairs together) before any truncation."""
    pairs = batch["text_b"] if any(text is not None for text in batch["text_b"]) else None
    return [len(ids) for ids in tokenizer(batch["text_a"], pairs)["input_ids"]]


def main_metric_of(problem_type, data_args):
    """The score that picks the best checkpoint and is drawn in the training curves."""
    if problem_type == REGRESSION:
        return "pearson"
    if problem_type == MULTI_LABEL:
        return "f1"
    return "matthews_correlation" if data_args.task_name == "cola" else "accuracy"


def run(argv=None):
    model_args, data_args, run_args, training_args, checkpoint, previous = start_run(GlueDataArguments, argv)
    examples = load_examples(data_args, model_args, training_args)
    check_same_shape(examples)
    base_config = load_config(model_args)
    problem_type = problem_type_of(examples, data_args, base_config)
    labels = resolve_labels(examples, data_args, base_config, problem_type)
    maps = label_maps(labels) if labels is not None else {"num_labels": 1}
    config = load_config(model_args, finetuning_task=data_args.output_name, problem_type=problem_type, **maps)
    tokenizer = load_tokenizer(model_args, config)
    if training_args.should_log:
        warn_about_unknown_words(tokenizer, examples, "text_a", split_into_words=False)

    def make_model(trial=None):
        return load_model(AutoModelForSequenceClassification, model_args, config)

    model = make_model()
    max_length = choose_max_length(
        data_args, tokenizer, config, examples.get("train", (None,))[0], lambda batch: piece_counts(tokenizer, batch),
        "chunked" if data_args.long_text == "chunks" else f"truncated ({data_args.truncation_side})",
    )
    data_args.max_seq_length = max_length  # saved with the run, so evaluation and prediction use the same

    chunk_stride = data_args.chunk_stride if data_args.long_text == "chunks" else None
    encoded, scorers = {}, {}
    for split, (dataset, source) in examples.items():
        if chunk_stride is not None and first_record(dataset)["text_b"] is not None:
            raise UserError(f"{source}: --long_text chunks is for single texts; sentence pairs are truncated longest-first")
        with_labels = any(len(labels) for labels in column_values(dataset, "labels"))
        encoder = ClassificationEncoder(
            tokenizer, max_length, data_args.truncation_side, data_args.head_tokens, problem_type, config.label2id,
            with_labels, chunk_stride,
        )
        encoded.update(tokenize_splits({split: (dataset, source)}, encoder, data_args, training_args, with_indices=True))
        if split != "train":
            scorers[split] = ClassificationScorer(
                problem_type, config.num_labels, encoded[split]["example_id"], data_args.chunk_pooling
            )
    collator = DataCollatorWithPadding(tokenizer, **padding_options(data_args, training_args, max_length))
    main_metric = main_metric_of(problem_type, data_args)
    if run_args.class_weights is not None and problem_type != SINGLE:
        raise UserError(f"--class_weights is for single-label classification, not {problem_type.replace('_', '-')}")
    loss = loss_function(run_args, encoded.get("train"), config.label2id)
    parts = (tokenizer, collator, encoded, scorers.get("validation"))
    search_hyperparameters(run_args, training_args, data_args, make_model, parts, main_metric, compute_loss_func=loss)
    if run_args.hp_search_trials:  # the final training starts from a fresh model too
        model = make_model()
    trainer = build_trainer(run_args, training_args, model, *parts, main_metric, compute_loss_func=loss)
    train_metrics = previous  # a finished run's figures are kept, not replaced by a 0-step resume
    if training_args.do_train:
        if trainer.is_world_process_zero():
            save_run_arguments(
                training_args.output_dir, "glue", data_args, training_args, model_args.model_name_or_path,
                describe_hardware(training_args),
            )
        train_metrics = train_and_save(trainer, checkpoint, size_or_none(examples["train"][0]))

    def write_predictions(output_dir, output):
        logits, _ = scorers["test"].per_example(output.predictions)
        lines = prediction_lines(logits, problem_type, config.id2label)
        atomic_write(os.path.join(output_dir, f"predict_results_{data_args.output_name}.txt"), "\n".join(lines) + "\n")

    def write_confusion(split, name):
        def write(output_dir, _):
            scorer = scorers[split]
            if problem_type == SINGLE and scorer.last is not None:
                names = [config.id2label[i] for i in range(config.num_labels)]
                gold, predicted = ([names[i] for i in values] for values in scorer.last)
                counts = confusion_matrix(gold, predicted, names)
                confusion_chart(counts, names, os.path.join(output_dir, f"{name}_confusion_matrix.png"),
                                chart_title(output_dir, name, "labels"))

        return write

    evaluations = [
        Evaluation(EVAL_PREFIXES.get(split, split), encoded[split], scorers[split], len(examples[split][0]),
                   write_confusion(split, EVAL_PREFIXES.get(split, split)))
        for split in examples
        if split not in ("train", "test")
    ]
    if "test" in examples:
        evaluations.append(
            Evaluation("predict", encoded["test"], scorers["test"], len(examples["test"][0]), write_predictions)
        )
    summary = run_evaluations(trainer, evaluations)
    finish_run(trainer, run_args, model_args, data_args, "glue", labels, train_metrics, summary, main_metric)
    return 0
