"""JSON token files: JSON lines, a JSON list of records, or one object of records keyed by id (seed 000's format)."""

from typing import Iterator

from tunekit.data.readers.fields import record_sentence
from tunekit.data.readers.table import json_records


def read_json_tokens(path: str, options) -> 'Iterator[dict]':
    """Yield one sentence per record."""
    pattern = options.suffix_pattern()
    for line, record in json_records(path):
        yield record_sentence(record, path, line, options, pattern)
