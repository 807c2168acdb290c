"""The label set of a run: from a label file, from a fine-tuned model's config, or from the training data."""

import json
import re
from typing import Callable

from tunekit.errors import UserError, at
from tunekit.data.readers.lines import read_lines

DEFAULT_LABEL_NAME = re.compile(r"^LABEL_\d+$")  # what transformers names labels it was not told


def read_label_file(path: str) -> list:
    """One label per line, in order; blank lines are ignored, a duplicate is an error naming its line.

    CLUE's labels.json (JSON lines with a "label" field) is read the same way.
    """
    labels: list = []
    seen: dict = {}
    for number, text in read_lines(path):
        label = label_on_line(text.strip())
        if not label:
            continue
        if label in seen:
            raise at(path, number, f"label '{label}' is listed twice (first on line {seen[label]})")
        seen[label] = number
        labels.append(label)
    if not labels:
        raise at(path, 1, "the label file lists no labels")
    return labels


def choose_labels(train_labels, label_file, model_labels, order_data_labels, listed=list) -> list:
    """The ordered label list for the run.

    train_labels: label -> (file, line) where training data first uses it (empty when not training).
    A label file wins; else a fine-tuned model's own order is kept; else the data's labels, ordered by
    order_data_labels. Training labels outside the chosen set are an error, never a silent remap.
    listed(names) -> the labels a label file's names stand for (NER: in IOB2, as the data is read).
    """
    if label_file:
        labels, source = listed(read_label_file(label_file)), f"the label file {label_file}"
    elif model_labels:
        labels, source = model_labels, f"the fine-tuned model's labels ({', '.join(model_labels)})"
    elif train_labels:
        return order_data_labels(train_labels)
    else:
        raise UserError(
            "no label set: evaluating or predicting without training needs a fine-tuned model or --label_file"
        )
    check_known(train_labels, labels, source)
    return labels


def check_known(occurrences, labels, source: str, problem: Callable[[str], str] | None = None) -> None:
    """Every label used in a split must be in the label set: name the first unknown one and where it is.
    problem(label) words the error when `label '...' is not in <source>` would mislead."""
    known = set(labels)
    for label, (path, line) in occurrences.items():
        if label not in known:
            raise at(path, line, problem(label) if problem else f"label '{label}' is not in {source}")


def only_in_held_out_part(percentage) -> Callable[[str], str]:
    """The error for a label of the held-out validation part that the rest of the training file lacks."""
    return lambda label: (
        f"label '{label}' occurs only in the {percentage}% of this training file held out for validation "
        "(no validation file was given), so training would never see it; pass a --validation_file, add "
        "examples of it, or choose another --seed or --validation_split_percentage"
    )


def first_occurrences(dataset, path: str, column: str) -> dict:
    """label -> (path, line) of its first use, for a dataset with a per-example `line` column. For several corpora
    laid end to end (a path with `parts`), the path is the corpus's own file, named with the corpus."""
    parts = getattr(path, "parts", None) if "corpus" in (dataset.column_names or []) else None
    parts = parts if isinstance(parts, dict) else None  # a CorporaSource's, not a pathlib path's
    found = {}
    for batch in dataset.iter(batch_size=2048):
        corpora = batch["corpus"] if parts else [None] * len(batch["line"])
        for line, value, corpus in zip(batch["line"], batch[column], corpora):
            for label in value if isinstance(value, list) else [value]:
                if label not in found:
                    found[label] = (f"corpus '{corpus}': {parts[corpus]}" if parts else path, line)
    return found


def label_on_line(text: str) -> str:
    """The label a label-file line names: the line itself, or the "label" field of a JSON object."""
    if text.startswith("{"):
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            return text
        if isinstance(record, dict) and "label" in record:
            return str(record["label"])
    return text


def resolve_label_set(splits, column: str, label_file, config, order_data_labels, listed=list) -> list:
    """The run's label list, checked against every split so that an unseen dev/test label fails early.

    splits: split -> (Dataset, source). A fine-tuned model's labels must match the chosen set exactly.
    """
    train_labels = first_occurrences(splits["train"][0], splits["train"][1], column) if "train" in splits else {}
    model_labels = fine_tuned_labels(config)
    labels = choose_labels(train_labels, label_file, model_labels, order_data_labels, listed)
    if model_labels and labels != model_labels:
        raise UserError(
            f"the label set ({', '.join(labels)}) disagrees with the fine-tuned model's labels "
            f"({', '.join(model_labels)}); use a label file that matches the model, or start from a base model"
        )
    if label_file:
        source = f"the label file {label_file}"
    elif model_labels:
        source = "the fine-tuned model's labels"
    else:
        source = f"the training data {splits['train'][1]}"
    for split, (dataset, where) in splits.items():
        if split != "train":
            held_out = hasattr(where, "percentage") and not label_file and not model_labels
            problem = only_in_held_out_part(where.percentage) if held_out else None
            check_known(first_occurrences(dataset, where, column), labels, source, problem)
    return labels


def fine_tuned_labels(config) -> 'list | None':
    """The label names a fine-tuned model was trained with, in id order; None for a model with default names."""
    id2label = getattr(config, "id2label", None) or {}
    names = [id2label[index] for index in sorted(id2label, key=int)]
    if not names or all(DEFAULT_LABEL_NAME.match(str(name)) for name in names):
        return None
    return [str(name) for name in names]
