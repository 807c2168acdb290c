"""Helpers for records (JSON, CSV, Hub rows) whose token and tag fields may be lists or space-separated strings."""

from tunekit.errors import at
from tunekit.data.readers.sentences import make_sentence

TOKEN_FIELD_NAMES = ("tokens", "words", "sents", "sentence", "text", "chars")
TAG_FIELD_NAMES = ("ner_tags", "tags", "labels", "ner_labels", "label", "ner")
DOCUMENT_FIELD = "document_id"  # SpanMarker's names: the sentence's document, and its place in it
SENTENCE_ID_FIELD = "sentence_id"


def pick_field(record, explicit, candidates, path: str, line: int | str, what) -> str:
    """The field name to use: the one the user named, else the first known name present in the record."""
    if explicit is not None:
        if explicit not in record:
            raise at(path, line, f"no {what} field '{explicit}' (fields: {', '.join(map(str, record))})")
        return explicit
    for name in candidates:
        if name in record:
            return name
    raise at(
        path,
        line,
        f"no {what} field: expected one of {', '.join(candidates)} (fields: {', '.join(map(str, record))}); "
        f"name it with --{'text' if what == 'token' else 'label'}_column_name",
    )


def as_string_list(value, path: str, line: int | str, what) -> list:
    """A list of strings from a JSON list or a space-separated string."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(item, (str, int)) and not isinstance(item, bool) for item in value):
        return [str(item) for item in value]
    raise at(path, line, f"the {what} field must be a list of strings or a space-separated string")


def record_sentence(record, path: str, line: int | str, options, pattern) -> dict:
    """Tokens and tags of one record; the tag field may be absent only where labels are optional."""
    token_field = pick_field(record, options.text_field, TOKEN_FIELD_NAMES, path, line, "token")
    tokens = as_string_list(record[token_field], path, line, "token")
    tags = None
    if options.label_field is not None or options.labels_required or any(n in record for n in TAG_FIELD_NAMES):
        tag_field = pick_field(record, options.label_field, TAG_FIELD_NAMES, path, line, "label")
        tags = as_string_list(record[tag_field], path, line, "label")
    document = record.get(DOCUMENT_FIELD)
    return make_sentence(tokens, tags, path, line, options, pattern, "" if document is None else str(document),
                         sentence_position(record.get(SENTENCE_ID_FIELD), path, line))


def sentence_position(value, path: str, line) -> int:
    """A sentence_id as a number (-1 when absent): it orders the sentences of a document."""
    if value is None or value == "":
        return -1
    try:
        whole = not isinstance(value, bool) and (not isinstance(value, float) or value.is_integer())
        position = int(value) if whole else -1
    except (TypeError, ValueError):
        position = -1
    if position < 0:
        raise at(path, line, f"sentence_id must be a whole number of 0 or more, not {value!r}")
    return position
# CoNLL-2003 columns: token, POS, chunk, NER; the column each --task_name of run_ner.py reads.
TASK_COLUMNS = {"ner": None, "pos": 1, "chunk": 2}  # None: the last column
