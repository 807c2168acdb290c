"""Rows of tabular files (TSV, CSV, JSON lines, JSON lists) as (line, fields) with an optional header.

TSV is split on tabs with no quoting at all: GLUE files hold bare `"` characters that are text, not quotes.
CSV uses a real CSV parser (RFC 4180 quoting, as in ChnSentiCorp_htl_all.csv).
"""

import csv
import json
import re
from typing import Iterable, Iterator

from tunekit.data.readers.lines import is_valid_unicode, read_lines
from tunekit.errors import at

TABLE_FORMATS = ("tsv", "csv", "json")


def detect_table_format(path: str) -> str:
    """json or csv by extension, tsv for everything else."""
    lowered = path.lower()
    if lowered.endswith((".json", ".jsonl")):
        return "json"
    if lowered.endswith(".csv"):
        return "csv"
    return "tsv"


def tsv_rows(path: str) -> 'Iterator[tuple[int, list]]':
    for number, text in read_lines(path):
        if text.strip():
            yield number, [field.strip() for field in text.split("\t")]


def csv_rows(path: str) -> 'Iterator[tuple[int, list]]':
    """(line where the record starts, cells) with RFC 4180 quoting. A quote left open would silently swallow the
    rows after it into one cell, so an open quote at the end of the file, a quote closed in the middle of a cell,
    and a quoted cell whose continuation lines are rows of the file's width by themselves are errors."""
    numbered = list(read_lines(path))
    reader = csv.reader((text + "\n" for _, text in numbered), strict=True)
    width, start = None, 0  # start: index in `numbered` of the record's first line
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise at(path, numbered[start][0], quote_problem(str(error), numbered[reader.line_num - 1][0])) from None
        end = reader.line_num  # the record is numbered[start:end]
        width = len(row) if width is None else width
        for index in range(start + 1, end):
            if len(next(csv.reader([numbered[index][1]]))) == width:
                raise at(
                    path, numbered[start][0],
                    f"a quoted cell opened here runs on to line {numbered[end - 1][0]} and takes in line "
                    f"{numbered[index][0]}, which is a row of its own: close the quote on its line, or double a quote "
                    'that is part of the text ("")',
                )
        if any(cell.strip() for cell in row):
            yield numbered[start][0], [cell.strip() for cell in row]
        start = end


def quote_problem(message: str, line: int) -> str:
    """A one-line explanation of the csv module's quoting errors."""
    if "unexpected end of data" in message:
        return "a quoted cell opened on this line is never closed: every row after it would become part of one cell"
    return f"bad quoting (line {line}: {message}): a quote must enclose a whole cell; double a quote that is part of the text (\"\")"


def json_records(path: str) -> 'Iterator[tuple[int | str, dict]]':
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
        except (ValueError, RecursionError) as error:  # a 5,000-digit number or 100,000 brackets are not JSONDecodeError
            raise at(path, number, f"invalid JSON: {json_problem(error)}") from None
        if not isinstance(record, dict):
            raise at(path, number, f"a JSON line must be an object, found {type(record).__name__}")
        if has_surrogate_escape(text):
            check_unicode(record, path, number)
        yield number, record


def json_problem(error: Exception) -> str:
    """What json.loads found wrong, in one line."""
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return getattr(error, "msg", None) or str(error)


def is_json_lines(first_line) -> bool:
    """A first line that is a complete record (not an object of records) means JSON lines."""
    try:
        value = json.loads(first_line)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and not all(isinstance(item, dict) for item in value.values())


def whole_json_records(path: str, text: str) -> 'Iterator[tuple[str, dict]]':
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise at(path, getattr(error, "lineno", 1), f"invalid JSON: {json_problem(error)}") from None
    entries: Iterable
    if isinstance(value, dict):
        entries = value.items()
    elif isinstance(value, list):
        entries = enumerate(value)
    else:
        raise at(path, 1, "expected JSON lines, a list of records or an object of records")
    escapes = has_surrogate_escape(text)  # looked for once in the whole file, not once per record
    for key, record in entries:
        if not isinstance(record, dict):
            raise at(path, f"entry {key}", f"a record must be an object, found {type(record).__name__}")
        if escapes:
            check_unicode(record, path, f"entry {key}")
        yield f"entry {key}", record


SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def has_surrogate_escape(source: str) -> bool:
    """Whether JSON text holds a \\uD800-\\uDFFF escape, the only way lone surrogates get into a decoded file."""
    return SURROGATE_ESCAPE.search(source) is not None


def check_unicode(record: dict, path: str, line) -> None:
    """A record holding a lone surrogate (a \\ud83d escape without its other half) is an error on its line: Arrow
    and the tokenizers would fail on it deep inside. Callers check only records whose source has_surrogate_escape."""
    for name, value in record.items():
        if not is_valid_unicode(json.dumps(value, ensure_ascii=False)):
            raise at(path, line, f"field '{name}' holds invalid Unicode (half of a surrogate pair)")
