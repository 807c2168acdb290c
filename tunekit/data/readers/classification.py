"""Sentence / sentence-pair classification files: TSV, CSV or JSON, with or without a header.

Each record is {"text_a", "text_b" (None for single texts), "labels" (list of names; one for single-label,
several for multi-label, none when the file has no labels), "label_list" (the label field was a list),
"line"}. Columns are chosen by name or 0-based index; without a choice, common names are tried.
"""

from dataclasses import dataclass
from typing import Iterator, List, Optional

from tunekit.data.readers.table import (
    TABLE_FORMATS,
    csv_rows,
    detect_table_format,
    json_records,
    tsv_rows,
)
from tunekit.errors import UserError, at

TEXT_COLUMN_CANDIDATES = [
    ("sentence1", "sentence2"),
    ("question1", "question2"),
    ("question", "sentence"),
    ("premise", "hypothesis"),
    ("text_a", "text_b"),
    ("sentence",),
    ("text",),
    ("review",),
    ("content",),
    ("question",),
]
LABEL_COLUMN_CANDIDATES = ["label", "labels", "score", "gold_label", "is_duplicate", "class", "category", "sentiment"]
HEADER_WORDS = {name for names in TEXT_COLUMN_CANDIDATES for name in names} | set(LABEL_COLUMN_CANDIDATES) | {
    "index", "id", "idx", "label_desc", "keywords", "target",
}


@dataclass
class ExampleReadOptions:
    """How to read classification files; filled from the command line or a GLUE task's layout."""

    file_format: Optional[str] = None
    text_columns: Optional[List[str]] = None
    label_column: Optional[str] = None
    has_header: Optional[bool] = None
    labels_required: bool = True


def read_classification_file(path: str, options) -> 'Iterator[dict]':
    file_format = options.file_format or detect_table_format(path)
    if file_format not in TABLE_FORMATS:
        raise UserError(f"unknown --file_format '{file_format}': choose one of {', '.join(TABLE_FORMATS)}")
    if file_format == "json":
        yield from json_examples(path, options)
    else:
        yield from row_examples(path, tsv_rows(path) if file_format == "tsv" else csv_rows(path), options)


def is_index(name: str) -> bool:
    return isinstance(name, int) or (isinstance(name, str) and name.lstrip("-").isdigit())


def header_expected(first_row, options) -> bool:
    if options.has_header is not None:
        return options.has_header
    chosen = list(options.text_columns or []) + ([options.label_column] if options.label_column is not None else [])
    if chosen and not all(is_index(name) for name in chosen):
        return True
    return any(cell.lower() in HEADER_WORDS for cell in first_row)


def column_index(name: str, header, path: str, line: int, what) -> int:
    if is_index(name):
        return int(name)
    if header is None or name not in header:
        raise at(path, line, f"no {what} column '{name}'" + (f" (columns: {', '.join(header)})" if header else ""))
    return header.index(name)


def default_text_names(names, path: str, line: int | str) -> list:
    for candidates in TEXT_COLUMN_CANDIDATES:
        if all(name in names for name in candidates):
            return list(candidates)
    raise at(path, line, f"cannot tell which columns hold the text (columns: {', '.join(map(str, names))}); "
             "name them with --text_column_names")


def default_label_name(names) -> str | None:
    return next((name for name in LABEL_COLUMN_CANDIDATES if name in names), None)


def row_layout(header, width, options, path: str, line: int) -> tuple:
    """(text column indices, label column index or None) for rows of a TSV/CSV file."""
    if options.text_columns:
        texts = [column_index(name, header, path, line, "text") for name in options.text_columns]
    elif header is not None:
        texts = [header.index(name) for name in default_text_names(header, path, line)]
    elif width in (2, 3):
        texts = list(range(width - 1))
    else:
        raise at(path, line, f"{width} columns and no header: choose them with --text_column_names and --label_column_name")
    if options.label_column is not None and header is not None and not is_index(options.label_column) \
            and options.label_column not in header and not options.labels_required:
        label = None  # a test file without its label column
    elif options.label_column is not None:
        label = column_index(options.label_column, header, path, line, "label")
    elif header is not None:
        name = default_label_name(header)
        label = header.index(name) if name is not None else None
    else:
        label = width - 1 if width > len(texts) else None
    return texts, label


def row_examples(path: str, rows, options) -> 'Iterator[dict]':
    header, layout, width = None, None, None
    for number, row in rows:
        if layout is None:
            if header_expected(row, options):
                header = row
                layout = row_layout(header, len(row), options, path, number)
                width = len(row)
                continue
            width = len(row)
            layout = row_layout(None, width, options, path, number)
        texts, label = layout
        unlabelled = label is not None and not options.labels_required and len(row) == len(texts) and header is None
        if len(row) != width and not unlabelled:
            raise at(path, number, f"expected {width} columns like the {'header' if header else 'first line'}, found {len(row)}")
        needed = max(texts + ([label] if label is not None and not unlabelled else []))
        if needed >= len(row):
            raise at(path, number, f"expected at least {needed + 1} columns, found {len(row)}")
        values = [row[index] for index in texts]
        labels = None if label is None or unlabelled else [row[label]]
        yield make_example(values, labels, False, path, number, options)
    if layout is None:
        raise at(path, 1, "no examples found")


def json_examples(path: str, options) -> 'Iterator[dict]':
    for line, record in json_records(path):
        names = options.text_columns or default_text_names(list(record), path, line)
        values = []
        for name in names:
            if name not in record:
                raise at(path, line, f"no text field '{name}' (fields: {', '.join(record)})")
            values.append(record[name])
        label_name = options.label_column or default_label_name(record)
        labels, is_list = None, False
        if label_name is not None and label_name in record:
            value = record[label_name]
            is_list = isinstance(value, list)
            labels = [str(item) for item in value] if is_list else [str(value)]
        elif options.label_column is not None and options.labels_required:
            raise at(path, line, f"no label field '{options.label_column}' (fields: {', '.join(record)})")
        yield make_example(values, labels, is_list, path, line, options)


def make_example(values, labels, label_list, path: str, line: int | str, options) -> dict:
    if len(values) > 2:
        raise at(path, line, "at most two text columns (a sentence pair) are supported")
    for value in values:
        if not isinstance(value, str):
            raise at(path, line, f"text must be a string, found {type(value).__name__}")
        if not value.strip():
            raise at(path, line, "empty text")
    if labels is None and options.labels_required:
        raise at(path, line, "no label: this file is used for training or evaluation and needs one")
    if labels is not None and not label_list and not labels[0].strip():
        raise at(path, line, "empty label")
    return {
        "text_a": values[0],
        "text_b": values[1] if len(values) > 1 else None,
        "labels": labels or [],
        "label_list": label_list,
        "line": line if isinstance(line, int) else 0,
    }
