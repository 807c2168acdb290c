"""Classification encoding: single texts or real sentence pairs, truncation sides or chunks, and label tensors.

Pairs go to the tokenizer as two sequences (token_type_ids where the model has them), truncated longest
first. Single texts are cut by --truncation_side: keep the head, the tail, or the head and the tail (seed 002),
or, with --long_text chunks, split into overlapping windows whose logits are pooled into one prediction (mean,
max), or which a model pools itself (--chunk_pooling attention: one row holding the windows end to end).
"""

import numpy as np

from tunekit.data.problem_types import MULTI_LABEL, REGRESSION
from tunekit.encoding.windows import window_bounds

TRUNCATION_SIDES = ("head", "tail", "head_tail")
CHUNK_POOLINGS = ("mean", "max", "attention")
PAIR_ENCODINGS = ("cross", "siamese")
SENTENCE_POOLINGS = ("auto", "cls", "mean", "max", "attention")  # modeling/pooling's TOKEN_POOLINGS and auto
LONG_TEXT_MODES = ("truncate", "chunks")


def keep_pieces(content, budget, side, head_pieces) -> list:
    """Cut a list of pieces to `budget` keeping the head, the tail, or `head_pieces` of the head and the rest from the tail."""
    if len(content) <= budget:
        return content
    if side == "head":
        return content[:budget]
    if side == "tail":
        return content[len(content) - budget :]
    head = min(head_pieces, budget)
    tail = budget - head
    return content[:head] + (content[len(content) - tail :] if tail else [])


class ClassificationEncoder:
    """A picklable batched `Dataset.map` function turning text_a/text_b/labels into model features."""

    def __init__(
        self, tokenizer, max_length, truncation_side, head_pieces, problem_type, label2id, with_labels, chunk_stride=None,
        join_chunks=False,
    ):
        """chunk_stride=None truncates long single texts; a number splits them into windows overlapping by that
        many pieces, one feature per window, all carrying the text's example_id and label, or with join_chunks one
        feature per text holding its windows end to end, each padded to max_length but the last (for a model that
        pools its chunks itself)."""
        self.tokenizer = tokenizer
        self.chunk_stride = chunk_stride
        self.join_chunks = join_chunks
        self.max_length = max_length
        self.truncation_side = truncation_side
        self.head_pieces = head_pieces
        self.problem_type = problem_type
        self.label2id = label2id
        self.with_labels = with_labels
        self.budget = max_length - tokenizer.num_special_tokens_to_add(pair=False)

    def __call__(self, batch, indices):
        if batch["text_b"][0] is not None:
            features = dict(
                self.tokenizer(batch["text_a"], batch["text_b"], truncation="longest_first", max_length=self.max_length)
            )
            features["example_id"] = list(indices)
        else:
            features = self.encode_single(batch["text_a"], indices)
        if self.with_labels:
            values = {index: self.label_value(labels) for index, labels in zip(indices, batch["labels"])}
            features["labels"] = [values[index] for index in features["example_id"]]
        features["length"] = [len(ids) for ids in features["input_ids"]]
        return features

    def encode_single(self, texts, indices) -> dict:
        encoded = self.tokenizer(texts, truncation=False, verbose=False)
        features: dict[str, list] = {key: [] for key in encoded.keys()}
        features["example_id"] = []
        for index, example_id in enumerate(indices):
            sequence = encoded.sequence_ids(index)  # None on special tokens
            prefix = next((i for i, s in enumerate(sequence) if s is not None), len(sequence))
            end = len(sequence) - next((i for i, s in enumerate(reversed(sequence)) if s is not None), 0)
            if self.chunk_stride is None:
                spans = [None]
            else:
                spans = window_bounds(end - prefix, self.budget, min(self.chunk_stride, self.budget // 2))
            chunks: dict[str, list] = {key: [] for key in encoded.keys()}
            for span in spans:
                for key in encoded.keys():
                    values = encoded[key][index]
                    content = values[prefix:end]
                    if span is None:
                        kept = keep_pieces(content, self.budget, self.truncation_side, self.head_pieces)
                    else:
                        kept = content[span[0] : span[1]]
                    chunks[key].append(values[:prefix] + kept + values[end:])
            if self.join_chunks:
                chunks = {key: [self.joined(key, rows)] for key, rows in chunks.items()}
            for key, rows in chunks.items():
                features[key].extend(rows)
            features["example_id"].extend([example_id] * len(chunks["input_ids"]))
        return features

    def joined(self, key: str, rows: list) -> list:
        """A text's chunks end to end, each but the last padded to max_length."""
        pad = self.tokenizer.pad_token_id if key == "input_ids" else 0
        return [value for row in rows[:-1] for value in row + [pad] * (self.max_length - len(row))] + rows[-1]

    def label_value(self, labels) -> object:
        if self.problem_type == REGRESSION:
            return float(labels[0])
        if self.problem_type == MULTI_LABEL:
            vector = [0.0] * len(self.label2id)
            for label in labels:
                vector[self.label2id[label]] = 1.0
            return vector
        return self.label2id[labels[0]]


def pool_chunks(logits, example_ids, how) -> tuple:
    """One row per example from the rows of its chunks (their mean or max); chunks of an example are adjacent."""
    example_ids = np.asarray(example_ids)
    starts = np.flatnonzero(np.r_[True, example_ids[1:] != example_ids[:-1]])
    if how == "max":
        return np.maximum.reduceat(logits, starts, axis=0), starts
    counts = np.diff(np.r_[starts, len(example_ids)])
    return np.add.reduceat(logits, starts, axis=0) / counts[:, None], starts


def labels_and_probabilities(logits, problem_type, names, thresholds=None) -> list:
    """(chosen label names, class probabilities) per row of classification logits: softmax and the best class,
    or for multi-label a sigmoid per class and every class above its threshold (thresholds: one per label, tuned
    on dev; None: 0.5)."""
    logits = np.asarray(logits, dtype=np.float64)
    if problem_type == MULTI_LABEL:
        probabilities = 1 / (1 + np.exp(-logits))
        cut = np.asarray(thresholds) if thresholds is not None else np.full(len(names), 0.5)
        chosen = [[n for n, p, t in zip(names, row, cut) if p > t] for row in probabilities]
    else:
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities = shifted / shifted.sum(axis=1, keepdims=True)
        chosen = [[names[int(i)]] for i in probabilities.argmax(axis=1)]
    return list(zip(chosen, probabilities))
