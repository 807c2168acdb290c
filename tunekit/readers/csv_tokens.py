"""CSV token files with a header: one sentence per row, tokens and tags as space-separated strings or JSON lists."""

import csv
import json

from ..errors import at
from .fields import record_sentence
from .lines import read_lines


def parse_cell(value):
    """A cell holding a JSON list is read as that list, anything else as a space-separated string."""
    stripped = value.strip()
    if stripped.startswith("["):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            pass
    return value


def read_csv_tokens(path, options, delimiter=","):
    pattern = options.suffix_pattern()
    numbered = list(read_lines(path))
    rows = csv.reader((text for _, text in numbered), delimiter=delimiter)
    header = None
    for row in rows:
        number = numbered[rows.line_num - 1][0]
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [cell.strip() for cell in row]
            continue
        if len(row) != len(header):
            raise at(path, number, f"expected {len(header)} columns like the header, found {len(row)}")
        record = {name: parse_cell(cell) for name, cell in zip(header, row)}
        yield record_sentence(record, path, number, options, pattern)
    if header is None:
        raise at(path, 1, "no header and no rows")
