"""Classification data: examples (text_a, text_b, labels, line) from files, GLUE folders or the Hub; the problem
type (single-label, multi-label, regression) and the label set the data implies."""

import os

import datasets

from tunekit.data.labels import first_occurrences, resolve_label_set
from tunekit.data.readers.classification import ExampleReadOptions, read_classification_file
from tunekit.data.sources import (
    column_values,
    find_split_files,
    first_record,
    has_local_files,
    load_hub_dataset,
    load_splits,
    resolve_split_files,
)
from tunekit.data.problem_types import MULTI_LABEL, REGRESSION, SINGLE
from tunekit.errors import UserError, at
from tunekit.data.glue_tasks import HUB_SPLITS

EXAMPLE_FEATURES = datasets.Features(
    {
        "text_a": datasets.Value("string"),
        "text_b": datasets.Value("string"),
        "labels": datasets.Sequence(datasets.Value("string")),
        "label_list": datasets.Value("bool"),
        "line": datasets.Value("int64"),
    }
)


def read_options(data_args, split: str) -> ExampleReadOptions:
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


def split_files(data_args) -> dict | None:
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


def hub_dataset_of(data_args) -> dict:
    """A GLUE task without local files comes from the Hub's nyu-mll/glue: the data arguments that say so."""
    if data_args.glue_task is not None and not data_args.dataset_name and not has_local_files(data_args):
        return {"dataset_name": "nyu-mll/glue", "dataset_config_name": data_args.task_name}
    return {}


def load_examples(data_args, model_args, training_args) -> dict:
    """split -> (Dataset of text_a/text_b/labels/label_list/line, where it came from)."""
    return load_splits(
        data_args,
        training_args,
        read_classification_file,
        lambda split: read_options(data_args, split),
        EXAMPLE_FEATURES,
        lambda: hub_examples(data_args, model_args),
        files=split_files(data_args),
    )


def hub_examples(data_args, model_args) -> dict:
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


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_same_shape(examples: dict) -> None:
    """Every split holds single texts, or every split holds pairs: a test file with another layout is an error."""
    firsts = {split: first_record(dataset) for split, (dataset, _) in examples.items()}
    shapes = {split: record["text_b"] is not None for split, record in firsts.items()}
    reference = "train" if "train" in shapes else next(iter(shapes))
    for split, (dataset, source) in examples.items():
        if shapes[split] != shapes[reference]:
            kind = "sentence pairs" if shapes[split] else "single texts"
            other = "pairs" if shapes[reference] else "single texts"
            raise at(source, firsts[split]["line"], f"{kind}, but the {reference} data has {other}")


def problem_type_of(examples: dict, data_args, config) -> str:
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


def check_numeric_labels(examples: dict) -> None:
    for split, (dataset, source) in examples.items():
        for label, (path, line) in first_occurrences(dataset, source, "labels").items():
            if not is_number(label):
                raise at(path, line, f"label '{label}' is not a number, and this is a regression task")


def order_labels(occurrences) -> list:
    """Numeric labels in numeric order (2 before 10), others sorted as strings."""
    labels = list(occurrences)
    return sorted(labels, key=float) if all(is_number(label) for label in labels) else sorted(labels)


def resolve_labels(examples: dict, data_args, config, problem_type: str) -> list | None:
    """The label list (None for regression, whose labels must all be numbers)."""
    if problem_type == REGRESSION:
        check_numeric_labels(examples)
        return None
    return resolve_label_set(examples, "labels", data_args.label_file, config, order_labels)


def piece_counts(tokenizer, batch) -> list:
    """Word pieces of each example (pairs together) before any truncation."""
    pairs = batch["text_b"] if any(text is not None for text in batch["text_b"]) else None
    return [len(ids) for ids in tokenizer(batch["text_a"], pairs, verbose=False)["input_ids"]]
