"""CSV token files with a header: one sentence per row, tokens and tags as space-separated strings or JSON lists."""

import json
from typing import Iterator

from tunekit.data.readers.fields import record_sentence
from tunekit.data.readers.table import csv_rows
from tunekit.errors import at


def parse_cell(value) -> list:
    """A cell holding a JSON list is read as that list, anything else as a space-separated string."""
    if value.startswith("["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            pass
    return value


def read_csv_tokens(path: str, options) -> 'Iterator[dict]':
    pattern = options.suffix_pattern()
    header = None
    for number, row in csv_rows(path):
        if header is None:
            header = row
            continue
        if len(row) != len(header):
            raise at(path, number, f"expected {len(header)} columns like the header, found {len(row)}")
        record = {name: parse_cell(cell) for name, cell in zip(header, row)}
        yield record_sentence(record, path, number, options, pattern)
    if header is None:
        raise at(path, 1, "no header and no rows")
