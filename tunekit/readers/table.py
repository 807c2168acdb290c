"""Rows of tabular files (TSV, CSV, JSON lines, JSON lists) as (line, fields) with an optional header.

TSV is split on tabs with no quoting at all: GLUE files hold bare `"` characters that are text, not quotes.
CSV uses a real CSV parser (RFC 4180 quoting, as in ChnSentiCorp_htl_all.csv).
"""

import csv
import json

from ..errors import at
from .lines import read_lines

TABLE_FORMATS = ("tsv", "csv", "json")


def detect_table_format(path):
    """json or csv by extension, tsv for everything else."""
    lowered = path.lower()
    if lowered.endswith((".json", ".jsonl")):
        return "json"
    if lowered.endswith(".csv"):
        return "csv"
    return "tsv"


def tsv_rows(path):
    for number, text in read_lines(path):
        if text.strip():
            yield number, [field.strip() for field in text.split("\t")]


def csv_rows(path):
    numbered = list(read_lines(path))
    reader = csv.reader((text for _, text in numbered))
    for row in reader:
        if any(cell.strip() for cell in row):
            yield numbered[reader.line_num - 1][0], [cell.strip() for cell in row]


def json_records(path):
    """(line, record) from JSON lines, a whole-file JSON list of objects, or one object of objects keyed by id.

    Records of whole-file JSON have no line of their own: they are located as "entry <key>".
    """
    lines = list(read_lines(path))
    first = next((text for _, text in lines if text.strip()), None)
    if first is None:
        raise at(path, 1, "the file holds only blank lines")
    if not is_json_lines(first):
        yield from whole_json_records(path, "\n".join(text for _, text in lines))
        return
    for number, text in lines:
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            raise at(path, number, f"invalid JSON: {error.msg}") from None
        if not isinstance(record, dict):
            raise at(path, number, f"a JSON line must be an object, found {type(record).__name__}")
        yield number, record


def is_json_lines(first_line):
    """A first line that is a complete record (not an object of records) means JSON lines."""
    try:
        value = json.loads(first_line)
    except json.JSONDecodeError:
        return False
    return isinstance(value, dict) and not all(isinstance(item, dict) for item in value.values())


def whole_json_records(path, text):
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise at(path, error.lineno, f"invalid JSON: {error.msg}") from None
    if isinstance(value, dict):
        entries = value.items()
    elif isinstance(value, list):
        entries = enumerate(value)
    else:
        raise at(path, 1, "expected JSON lines, a list of records or an object of records")
    for key, record in entries:
        if not isinstance(record, dict):
            raise at(path, f"entry {key}", f"a record must be an object, found {type(record).__name__}")
        yield f"entry {key}", record
