"""What predict.sh reads: one text per line (.txt) or JSON lines with a "text" field (and "text_pair"), from a
file or standard input. A line that cannot be read (bytes that are not UTF-8, bad JSON, no text, invalid Unicode)
is a problem of that line alone: it is answered with an error record in its place, and every other line normally."""

import contextlib
import json
import sys
from dataclasses import dataclass, field
from typing import Iterator

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


@dataclass(frozen=True)
class InputLine:
    """One input line: its text (and pair), or what is wrong with it alone (text "", answered by an error record)."""

    number: int
    text: str
    pair: str | None = None
    problem: str | None = None


def input_records(path: str | None) -> 'Iterator[InputLine]':
    """The lines of a file or of standard input, read as they come (memory stays flat whatever the input's size):
    plain lines, or JSON lines (a .jsonl/.json file, or a first non-blank line that starts with "{"). Output line N
    answers input line N, so a blank line is an empty text, never skipped, and a bad line keeps its place. The first
    text decides whether the lines give pairs; a line that disagrees is a problem of its own."""
    where = path or "<stdin>"
    if path is not None:
        check_readable(path)
    with (open(path, "rb") if path is not None else contextlib.nullcontext(sys.stdin.buffer)) as handle:
        undecodable: dict = {}
        lines = decoded_lines(handle, where, undecodable)
        waiting: list = []  # blank lines before the first text, until the format is known
        as_json = None if not (path or "").endswith((".jsonl", ".json")) else True
        with_pairs = None
        for number, text in lines:
            if as_json is None:
                if not text.strip() or number in undecodable:
                    waiting.append((number, text))
                    continue
                as_json = text.lstrip().startswith("{")
            for number, text in [*waiting, (number, text)]:
                line = parsed_line(number, text, as_json, undecodable, where)
                if line.problem is None and line.text:
                    given = line.pair is not None
                    with_pairs = given if with_pairs is None else with_pairs
                    if given != with_pairs:
                        line = InputLine(number, "", None, str(at(where, number, "this line gives a text_pair and the "
                                                                "first does not" if given else "the first line gives "
                                                                "a text_pair and this one does not")))
                yield line
            waiting = []
        for number, text in waiting:  # an input of blank lines only
            yield parsed_line(number, text, False, undecodable, where)


def parsed_line(number: int, text: str, as_json: bool, undecodable: dict, where: str) -> InputLine:
    if number in undecodable:
        return InputLine(number, "", None, undecodable[number])
    pair = None
    if as_json and text.strip():
        try:
            text, pair = json_line(text)
        except ValueError as error:
            return InputLine(number, "", None, str(at(where, number, str(error))))
    elif as_json:
        text = ""
    problem = text_problem(text + (pair or ""))
    if problem:
        return InputLine(number, "", None, str(at(where, number, problem)))
    return InputLine(number, text, pair)


def read_inputs(path: str | None) -> Inputs:
    """Every input line at once (input_records), for callers that want the whole input."""
    texts, pairs, problems = [], [], {}
    for index, line in enumerate(input_records(path)):
        texts.append(line.text)
        pairs.append(line.pair)
        if line.problem is not None:
            problems[index] = line.problem
    return Inputs(texts, pairs if any(pair is not None for pair in pairs) else None, problems)
