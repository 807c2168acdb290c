"""--distill_text: raw text that only a teacher labels, one text (or document) per line, split into words as
predict.sh splits them."""

import datasets

from tunekit.data.words import split_words
from tunekit.errors import UserError, at


def read_unlabelled_text(path: str) -> 'datasets.Dataset':
    """{"tokens": words, "tags": []} per line with words; a line that is not UTF-8 is an error naming it."""
    tokens = []
    try:
        stream = open(path, "rb")
    except OSError as error:
        raise UserError(f"{path}: cannot read the --distill_text file ({error.strerror})") from None
    with stream:
        for number, raw in enumerate(stream, 1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                raise at(path, number, f"not UTF-8 text (byte {error.start + 1} of the line)") from None
            words = [word for word, _, _ in split_words(line)]
            if words:
                tokens.append(words)
    if not tokens:
        raise UserError(f"{path}: the --distill_text file holds no text")
    return datasets.Dataset.from_dict({"tokens": tokens, "tags": [[] for _ in tokens]})
