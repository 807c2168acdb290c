"""Line TSV: one sentence per line as `tokens<TAB>labels`, space-separated, or characters when the text has no spaces."""

from typing import Iterator

from tunekit.data.readers.lines import read_lines
from tunekit.data.readers.sentences import make_sentence
from tunekit.errors import at

HEADER_WORDS = {"tokens", "words", "text", "sentence", "chars", "labels", "tags", "ner_tags", "label"}


def split_text(text: str, tag_count) -> list:
    """Whitespace tokens when they match the labels; characters for unspaced text such as Chinese."""
    words = text.split()
    if len(words) != tag_count and len(words) == 1 and len(text.strip()) == tag_count:
        return list(text.strip())
    return words


def read_tagged_lines(path: str, options) -> 'Iterator[dict]':
    """Yield one sentence per non-blank line; a first line made of column names is skipped as a header."""
    pattern = options.suffix_pattern()
    fields_per_line = None
    for number, line in read_lines(path):
        if not line.strip():
            continue
        fields = line.split("\t")
        if fields_per_line is None:
            fields_per_line = len(fields)
            if fields_per_line > 2:
                raise at(path, number, f"expected `tokens<TAB>labels`, found {fields_per_line} tab-separated fields")
            if {field.strip().lower() for field in fields} <= HEADER_WORDS:
                continue
        elif len(fields) != fields_per_line:
            raise at(path, number, f"expected {fields_per_line} tab-separated fields like the first line, found {len(fields)}")
        if fields_per_line == 1:
            yield make_sentence(fields[0].split(), None, path, number, options, pattern)
            continue
        tags = fields[1].split()
        yield make_sentence(split_text(fields[0], len(tags)), tags, path, number, options, pattern)
    if fields_per_line is None:
        raise at(path, 1, "no sentences found (only blank lines)")
