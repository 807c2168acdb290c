"""--distill_text: raw text that only a teacher labels, one text (or document) per line: for a tagger split into
words as predict.sh splits them; for a classifier one text per line, or two texts separated by a tab when the
data holds sentence pairs."""

from typing import Iterator

import datasets

from tunekit.data.words import split_words
from tunekit.errors import UserError, at


def text_lines(path: str) -> Iterator[tuple]:
    """(line number, text) for each line of the file; a line that is not UTF-8 is an error naming it."""
    try:
        stream = open(path, "rb")
    except OSError as error:
        raise UserError(f"{path}: cannot read the --distill_text file ({error.strerror})") from None
    with stream:
        for number, raw in enumerate(stream, 1):
            try:
                yield number, raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError as error:
                raise at(path, number, f"not UTF-8 text (byte {error.start + 1} of the line)") from None


def read_unlabelled_text(path: str) -> 'datasets.Dataset':
    """{"tokens": words, "tags": []} per line with words."""
    tokens = [words for words in ([word for word, _, _ in split_words(line)] for _, line in text_lines(path)) if words]
    return checked(path, {"tokens": tokens, "tags": [[] for _ in tokens]})


def read_unlabelled_examples(path: str, pairs: bool) -> 'datasets.Dataset':
    """Classification examples (text_a, text_b, no labels) per line with text; with pairs, each line must hold two
    texts separated by a tab."""
    first: list = []
    second: list = []
    for number, line in text_lines(path):
        if not line.strip():
            continue
        if not pairs:
            first.append(line.strip())
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not all(part.strip() for part in parts):
            raise at(path, number, f"expected two texts separated by one tab (the data holds sentence pairs), found "
                                   f"{len([part for part in parts if part.strip()])} text(s)")
        first.append(parts[0].strip())
        second.append(parts[1].strip())
    rows: dict = {"text_a": first, "text_b": second if pairs else [None] * len(first), "labels": [[] for _ in first]}
    return checked(path, rows)


def checked(path: str, rows: dict) -> 'datasets.Dataset':
    if not next(iter(rows.values())):
        raise UserError(f"{path}: the --distill_text file holds no text")
    return datasets.Dataset.from_dict(rows)
