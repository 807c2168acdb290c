"""Unlabelled text added to a tagger's training set: encoded as training is, every word's first piece marked
UNLABELLED, so that only the teacher's soft labels teach from it (training/distillation.py)."""

import logging

import datasets

from tunekit.data.unlabelled_text import read_unlabelled_text
from tunekit.encoding import IGNORE_INDEX, UNLABELLED
from tunekit.encoding.ner import NOT_A_WORD, NerEncoder
from tunekit.encoding.splits import encode_splits
from tunekit.errors import UserError

logger = logging.getLogger("tunekit")


def with_unlabelled_text(train, path: str, tokenizer, label2id: dict, max_length: int, data_args,
                         training_args) -> 'datasets.Dataset':
    """The encoded training set followed by the model inputs of the text in `path`."""
    if not isinstance(train, datasets.Dataset):
        raise UserError("--distill_text adds to training data read whole: leave out --streaming")
    texts = read_unlabelled_text(path)
    encoder = NerEncoder(tokenizer, label2id, max_length, data_args.stride, label_all_tokens=False)
    rows = encode_splits({"distill_text": (texts, path)}, encoder, data_args, training_args, with_indices=True)["distill_text"]

    def marked(batch):
        return {"labels": [[UNLABELLED if word != NOT_A_WORD else IGNORE_INDEX for word in words]
                           for words in batch["word_index"]]}

    rows = rows.map(marked, batched=True, desc="Marking unlabelled words").cast(train.features)
    logger.info("--distill_text: %d texts from %s (%d model inputs) join %d training inputs, labelled by the teacher "
                "only", len(texts), path, len(rows), len(train))
    return datasets.concatenate_datasets([train, rows])
