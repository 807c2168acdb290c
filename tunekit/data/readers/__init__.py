"""Readers for token-level (NER) files: pick the format from the extension and content, then yield sentences."""

from typing import Iterator

from tunekit.data.readers.conll import read_conll
from tunekit.data.readers.csv_tokens import read_csv_tokens
from tunekit.data.readers.json_tokens import read_json_tokens
from tunekit.data.readers.lines import read_lines
from tunekit.data.readers.sentences import TokenReadOptions
from tunekit.data.readers.table import detect_table_format
from tunekit.data.readers.tagged_lines import read_tagged_lines
from tunekit.data.tag_scheme import retag_file
from tunekit.errors import UserError

__all__ = ["TOKEN_READERS", "TokenReadOptions", "detect_token_format", "read_token_file"]

TOKEN_READERS = {
    "conll": read_conll,
    "tsv": read_tagged_lines,
    "json": read_json_tokens,
    "jsonl": read_json_tokens,
    "csv": read_csv_tokens,
}


def detect_token_format(path: str) -> str:
    """json/csv by extension; otherwise line TSV when a line's label field holds several labels, else CoNLL."""
    by_extension = detect_table_format(path)
    if by_extension != "tsv":
        return by_extension
    for count, (_, text) in enumerate(read_lines(path)):
        if count >= 200:
            break
        fields = text.split("\t")
        if len(fields) == 2 and len(fields[1].split()) > 1:
            return "tsv"
    return "conll"


def read_token_file(path: str, options) -> 'Iterator[dict]':
    """Yield {"tokens", "tags", "line", ..., "scheme", "retagged"} records from a file in any supported token format,
    the tags in IOB2 whatever scheme the file uses (tag_scheme.py): the file is read twice, once for its tags."""
    file_format = options.file_format or detect_token_format(path)
    if file_format not in TOKEN_READERS:
        raise UserError(f"unknown --file_format '{file_format}': choose one of {', '.join(TOKEN_READERS)}")
    read = TOKEN_READERS[file_format]
    first_pass = [(record["tags"], record["line"]) for record in read(path, options)]
    tag_lists, lines = [tags for tags, _ in first_pass], [line for _, line in first_pass]
    scheme, converted, changed = retag_file(tag_lists, lines, path, options.entity_tags, options.id_names,
                                            token_per_line=read is read_conll)
    described = scheme.description()
    again = read(path, options, name_empty_tokens=False) if read is read_conll else read(path, options)
    for record, tags, count in zip(again, converted, changed):
        yield dict(record, tags=tags, scheme=described, retagged=count)
