"""CoNLL column files: one token per line, columns split by tabs or spaces, blank lines between sentences."""

import logging
from typing import Iterator

from tunekit.data.readers.lines import read_lines
from tunekit.data.readers.sentences import make_sentence
from tunekit.errors import at

logger = logging.getLogger("tunekit")


def split_columns(text: str) -> list:
    """Tab-separated when the line holds a tab (tokens may then contain spaces), else whitespace-separated."""
    if "\t" in text:
        return [field.strip() for field in text.split("\t")]
    return text.split()


def read_conll(path: str, options, name_empty_tokens: bool = True) -> 'Iterator[dict]':
    """Yield sentences; -DOCSTART- lines and whitespace-only lines end a sentence, and each -DOCSTART- line
    starts a new document (numbered from 1; sentences before the first one, or in a file without any, have none).
    name_empty_tokens: log how many tab-separated tokens were empty (off for a second reading of the file)."""
    pattern = options.suffix_pattern()
    columns = None
    tokens: list = []
    tags: list = []
    start = None
    found_any = False
    documents = 0
    empty: list = []  # lines of tab-separated tokens that are empty or blank

    def flush():
        nonlocal tokens, tags, start
        record = make_sentence(tokens, tags if columns > 1 else None, path, start, options, pattern,
                               str(documents) if documents else "", empty_tokens=True)
        tokens, tags, start = [], [], None
        return record

    for number, text in read_lines(path):
        if not text.strip() or text.startswith("-DOCSTART-"):
            if tokens:
                found_any = True
                yield flush()
            documents += text.startswith("-DOCSTART-")
            continue
        fields = split_columns(text)
        if columns is None:
            columns = len(fields)
            label_index = resolve_label_column(options.label_column, columns, path, number)
        elif len(fields) != columns:
            raise at(path, number, f"expected {columns} columns like the first token line, found {len(fields)}")
        if start is None:
            start = number
        if not fields[0]:  # a character the corpus could not print (BTC's dev and test: emoji parts, zero-width)
            if columns == 1 or "\t" not in text:
                raise at(path, number, "empty token: the line has a tag but no token before it")
            empty.append(number)
        tokens.append(fields[0])
        if label_index is not None:  # one column: no tags
            tags.append(fields[label_index])
    if tokens:
        found_any = True
        yield flush()
    if empty and name_empty_tokens:
        logger.warning("%s: %d tab-separated token%s empty or blank (first on line %d), each read as one unknown word",
                       path, len(empty), "s are" if len(empty) > 1 else " is", empty[0])
    if not found_any:
        raise at(path, 1, "no sentences found (only -DOCSTART- or blank lines)")


def resolve_label_column(label_column, columns, path: str, line: int) -> int | None:
    """The index of the tag column: the last one unless --label_column (or --task_name) chose another."""
    if columns == 1:
        return None
    index = -1 if label_column is None else label_column
    if not -columns <= index < columns or index in (0, -columns):
        raise at(path, line, f"--label_column {label_column} does not fit a file of {columns} columns (token is 0)")
    return index
