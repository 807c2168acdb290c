"""The record every NER reader yields: tokens, their tags, the line the sentence starts on, its document and its
place in the document."""

import re
from dataclasses import dataclass
from typing import Optional

from tunekit.errors import at

# Names accepted by --strip_token_suffix for common token decorations.
SUFFIX_PRESETS = {
    # Weibo NER writes each character followed by its position in a jieba word ("科0", "e12"):
    # strip the trailing digits, but never the first character, which may itself be a digit.
    "digits": r"(?<=.)\d+$",
}


@dataclass
class TokenReadOptions:
    """How to read token-level files; filled from the command line."""

    file_format: Optional[str] = None
    label_column: Optional[int] = None
    text_field: Optional[str] = None
    label_field: Optional[str] = None
    strip_token_suffix: Optional[str] = None
    labels_required: bool = True
    entity_tags: bool = True  # False (--task_name pos): tags are labels of their own, not entity tags in a scheme
    id_names: Optional[list] = None  # the label file's names, for files whose tags are integer ids

    def suffix_pattern(self) -> 're.Pattern | None':
        if not self.strip_token_suffix:
            return None
        return re.compile(SUFFIX_PRESETS.get(self.strip_token_suffix, self.strip_token_suffix))


def make_sentence(tokens, tags, path: str, line: int | str, options, pattern=None, document: str = "",
                  sentence_id: int = -1, empty_tokens: bool = False) -> dict:
    """Validate one sentence and return it as a record; tags=None means the input has no labels.

    `line` is a line number, or a description such as "entry 7" for whole-file JSON (stored as 0); `document`
    names the document the sentence belongs to ("" where the data marks none) and `sentence_id` its place in the
    document (-1 where the data gives none: then the input order). empty_tokens: the reader has named its empty
    tokens (read as unknown words) itself.
    """
    given_empty = [token == "" for token in tokens]
    if pattern is not None:
        tokens = [pattern.sub("", token) for token in tokens]
    if not tokens:
        raise at(path, line, "empty sentence: no tokens")
    for token, was_empty in zip(tokens, given_empty):
        if token == "" and not (empty_tokens and was_empty):
            raise at(path, line, "empty token")
    if tags is None:
        if options.labels_required:
            raise at(path, line, "no labels: this file is used for training or evaluation and needs a label column")
        tags = []
    elif len(tags) != len(tokens):
        raise at(path, line, f"{len(tokens)} tokens but {len(tags)} labels")
    return {"tokens": tokens, "tags": tags, "line": line if isinstance(line, int) else 0, "document": document,
            "sentence_id": sentence_id}
