"""JSON token files: JSON lines, a JSON list of records, or one object of records keyed by id (seed 000's format)."""

import json

from ..errors import at
from .fields import record_sentence
from .lines import read_lines


def read_json_tokens(path, options):
    """Yield sentences from JSON lines, or from a whole-file JSON list / object of records."""
    first = next(((number, text) for number, text in read_lines(path) if text.strip()), None)
    if first is None:
        raise at(path, 1, "the file holds only blank lines")
    if is_json_lines(first[1]):
        yield from read_json_lines(path, options)
    else:
        yield from read_whole_json(path, options)


def is_json_lines(first_line):
    """A first line that is a complete record (not an object of records) means JSON lines."""
    try:
        value = json.loads(first_line)
    except json.JSONDecodeError:
        return False
    return isinstance(value, dict) and not all(isinstance(item, dict) for item in value.values())


def read_json_lines(path, options):
    pattern = options.suffix_pattern()
    for number, text in read_lines(path):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            raise at(path, number, f"invalid JSON: {error.msg}") from None
        if not isinstance(record, dict):
            raise at(path, number, f"a JSON line must be an object, found {type(record).__name__}")
        yield record_sentence(record, path, number, options, pattern)


def read_whole_json(path, options):
    pattern = options.suffix_pattern()
    text = "\n".join(line for _, line in read_lines(path))
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
        where = f"entry {key}"
        if not isinstance(record, dict):
            raise at(path, where, f"a record must be an object, found {type(record).__name__}")
        yield record_sentence(record, path, where, options, pattern)
