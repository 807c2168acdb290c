"""Unlabelled text added to a student's training set (--distill_text): encoded as training is, its rows marked
`unlabelled` (encoding/row_attributes.py), so that only the teacher's soft labels teach from them
(training/distillation.py). Their labels only say which positions the model predicts: every word's first piece
for a tagger, the example for a classifier."""

import logging
from typing import Callable

import datasets

from tunekit.data.unlabelled_text import read_unlabelled_examples, read_unlabelled_text
from tunekit.encoding import IGNORE_INDEX
from tunekit.encoding.row_attributes import COLUMNS, UNLABELLED, with_default_attributes, with_row_attribute
from tunekit.encoding.ner import NOT_A_WORD, NerEncoder
from tunekit.encoding.splits import encode_splits
from tunekit.errors import UserError

logger = logging.getLogger("tunekit")
# The label an unlabelled row holds where the model predicts: a placeholder its `unlabelled` column tells every
# gold loss to skip (the distillation terms read the positions only).
PREDICTED = 0


def with_unlabelled_text(train, path: str, tokenizer, label2id: dict, max_length: int, data_args,
                         training_args) -> 'datasets.Dataset':
    """A tagger's encoded training set followed by the model inputs of the text in `path`."""
    check_whole(train)
    texts = read_unlabelled_text(path)
    encoder = NerEncoder(tokenizer, label2id, max_length, data_args.stride, label_all_tokens=False)

    def marked(batch):
        return {"labels": [[PREDICTED if word != NOT_A_WORD else IGNORE_INDEX for word in words]
                           for words in batch["word_index"]]}

    return joined(train, texts, path, encoder, marked, data_args, training_args)


def with_unlabelled_examples(train, path: str, pairs: bool, encoder: Callable, data_args,
                             training_args) -> 'datasets.Dataset':
    """A single-label classifier's encoded training set followed by the model inputs of the texts in `path` (two
    per line, tab-separated, for pairs), encoded by `encoder` without labels."""
    check_whole(train)
    texts = read_unlabelled_examples(path, pairs)
    return joined(train, texts, path, encoder, lambda batch: {"labels": [PREDICTED] * len(batch["input_ids"])},
                  data_args, training_args)


def check_whole(train) -> None:
    if not isinstance(train, datasets.Dataset):
        raise UserError("--distill_text adds to training data read whole: leave out --streaming")


def joined(train, texts, path: str, encoder: Callable, marked: Callable, data_args, training_args) -> 'datasets.Dataset':
    rows = encode_splits({"distill_text": (texts, path)}, encoder, data_args, training_args, with_indices=True)["distill_text"]
    attributes = [UNLABELLED] + [name for name in COLUMNS if name in train.column_names and name != UNLABELLED]
    train = with_default_attributes(train, attributes)
    rows = with_row_attribute(rows.map(marked, batched=True, desc="Marking unlabelled examples"), UNLABELLED,
                              [1] * len(rows))
    rows = with_default_attributes(rows, attributes).cast(train.features)
    logger.info("--distill_text: %d texts from %s (%d model inputs) join %d training inputs, labelled by the teacher "
                "only", len(texts), path, len(rows), len(train))
    return datasets.concatenate_datasets([train, rows])
