"""What predict.sh reads: one text per line (.txt) or JSON lines with a "text" field (and "text_pair"), from a
file or standard input. A line that cannot be read (bytes that are not UTF-8, bad JSON, no text, invalid Unicode)
is a problem of that line alone: it is answered with an error record in its place, and every other line normally."""

import json
import sys
from dataclasses import dataclass, field

from tunekit.data.readers.lines import check_readable, decoded_lines, is_valid_unicode
from tunekit.data.readers.table import json_problem
from tunekit.errors import at

TEXT_FIELDS = ("text", "sentence", "sentence1", "text_a", "question")
PAIR_FIELDS = ("text_pair", "sentence2", "text_b")


@dataclass
class Inputs:
    texts: list
    pairs: list | None
    problems: dict = field(default_factory=dict)  # input index -> what is wrong with that line alone


def text_problem(text: str) -> str | None:
    """Why the model cannot read a text, in the user's terms (None when it can)."""
    if is_valid_unicode(text):
        return None
    position = next(i for i, character in enumerate(text) if not is_valid_unicode(character))
    return (f"invalid Unicode: character {position + 1} is half of a surrogate pair (U+{ord(text[position]):04X}), "
            "as a \\ud83d escape without its other half leaves")


def input_lines(path: str | None, problems: dict) -> list:
    """(line number, text) of every line; a line of bytes that are not UTF-8 is recorded in problems and read as ""."""
    if path is None:
        return list(decoded_lines(sys.stdin.buffer, "<stdin>", problems))
    check_readable(path)
    with open(path, "rb") as handle:
        return list(decoded_lines(handle, path, problems))


def json_line(text: str) -> tuple:
    """(text, pair or None) of one JSON line, or a ValueError saying what is wrong with it."""
    try:
        record = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ValueError(f"invalid JSON: {json_problem(error)}") from None
    if not isinstance(record, dict):
        raise ValueError("a JSON line must be an object")
    return record_text(record)


def record_text(record: dict) -> tuple:
    """(text, pair or None) of a JSON object, as predict.sh's JSON lines and the server's objects give them, or a
    ValueError saying what is wrong with it."""
    name = next((name for name in TEXT_FIELDS if name in record), None)
    if name is None or not isinstance(record[name], str):
        raise ValueError(f"no text: expected a string field {' or '.join(TEXT_FIELDS)}")
    pair_name = next((name for name in PAIR_FIELDS if name in record), None)
    pair = record[pair_name] if pair_name else None
    if pair is not None and not isinstance(pair, str):
        raise ValueError(f"{pair_name} must be a string")
    return record[name], pair


def read_inputs(path: str | None) -> Inputs:
    """Texts (and pairs) from plain lines or JSON lines, one per input line: output line N answers input line N, so a
    blank line is an empty text (with an empty result), never skipped, and a bad line keeps its place."""
    where = path or "<stdin>"
    undecodable: dict = {}
    lines = input_lines(path, undecodable)
    filled = [text for number, text in lines if text.strip() and number not in undecodable]
    as_json = (path or "").endswith((".jsonl", ".json")) or bool(filled and filled[0].lstrip().startswith("{"))
    texts, pairs, problems = [], [], {}
    for index, (number, text) in enumerate(lines):
        pair = None
        if number in undecodable:
            problems[index], text = undecodable[number], ""
        elif as_json and text.strip():
            try:
                text, pair = json_line(text)
            except ValueError as error:
                problems[index], text = str(at(where, number, str(error))), ""
        elif as_json:
            text = ""
        problem = None if index in problems else text_problem(text + (pair or ""))
        if problem:
            problems[index], text, pair = str(at(where, number, problem)), "", None
        texts.append(text)
        pairs.append(pair)
    given = [pair is not None for index, (text, pair) in enumerate(zip(texts, pairs)) if text and index not in problems]
    if any(given) and not all(given):
        raise at(where, 1, "either every line or no line gives a text_pair")
    return Inputs(texts, pairs if any(given) else None, problems)
