"""Before training: how much of the data the model's vocabulary can read at all.

A tokenizer maps a character it does not know to its unknown token: an English vocabulary turns most Chinese
characters into [UNK] (docs/your-data.md gives the share on Weibo NER), and training then learns nothing from them without a
word of warning. This measures the share of words that become only unknown pieces and warns once.
"""

import logging
import re
from itertools import islice

logger = logging.getLogger("tunekit")
WARN_ABOVE = 0.03  # a few stray symbols are normal; more means the vocabulary does not cover the language
SAMPLE = 2000  # examples read for the measurement
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def unknown_words(tokenizer, texts, split_into_words: bool) -> tuple:
    """(words that became only unknown pieces, all words) over texts: strings, or lists of words."""
    unknown_id = tokenizer.unk_token_id
    if unknown_id is None or not texts or not tokenizer.is_fast:  # byte-level vocabularies know every byte
        return [], 0
    encoded = tokenizer(list(texts), is_split_into_words=split_into_words, add_special_tokens=False, verbose=False)
    lost, total = [], 0
    for index, ids in enumerate(encoded["input_ids"]):
        pieces: dict = {}
        for word, piece in zip(encoded.word_ids(index), ids):
            if word is not None:
                pieces.setdefault(word, []).append(piece)
        total += len(pieces)
        for word, word_pieces in pieces.items():
            if all(piece == unknown_id for piece in word_pieces):
                span = encoded.word_to_chars(index, word) if not split_into_words else None
                lost.append(texts[index][word] if span is None else texts[index][span.start : span.end])
    return lost, total


def first_values(dataset, column: str, count: int = SAMPLE) -> list:
    """The column's values in the first `count` rows of a Dataset or a streamed IterableDataset."""
    if hasattr(dataset, "__len__"):
        return dataset.select(range(min(count, len(dataset))))[column]
    return [row[column] for row in islice(dataset, count)]


def warn_about_unknown_words(tokenizer, splits, column: str, split_into_words: bool) -> 'float | None':
    """Warn once when more than a few percent of the words in the first examples of the training split (else
    the first split) become only unknown pieces; splits: split -> (dataset, source). Returns the share."""
    dataset, source = splits["train"] if "train" in splits else next(iter(splits.values()))
    texts = [row for row in first_values(dataset, column) if row]
    lost, total = unknown_words(tokenizer, texts, split_into_words)
    share = len(lost) / total if total else 0.0
    if share > WARN_ABOVE:
        examples = ", ".join(list(dict.fromkeys(lost))[:5])
        chinese = sum(bool(CJK.search(word)) for word in lost) > len(lost) / 2
        advice = (
            "a model whose vocabulary covers the language, e.g. --model_name_or_path bert-base-chinese "
            "(or hfl/chinese-roberta-wwm-ext)" if chinese else
            "a model whose vocabulary covers the language of the data (e.g. xlm-roberta-base for many languages)"
        )
        logger.warning(
            "%s: %.0f%% of the words (%d of %d in the first %d examples) become only %s with this model's "
            "vocabulary (e.g. %s): the model cannot read them and will learn little. Use %s.",
            source, 100 * share, len(lost), total, len(texts), tokenizer.unk_token, examples, advice,
        )
    return share
