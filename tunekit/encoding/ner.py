"""NER encoding: word pieces, labels on each word's first piece, and overlapping windows for long sentences.

Every word is *owned* by exactly one window (the one where it has most context on both sides). Only the owner
labels the word and reports its prediction, so training counts each word once and evaluation and the
predictions file score exactly one label per word, however long the sentence.
"""

from typing import Iterator

from tunekit.encoding import IGNORE_INDEX
from tunekit.encoding.windows import window_bounds

NOT_A_WORD = -1


def continuation_label(label: str, label2id: dict) -> int:
    """The label for a word's later pieces under --label_all_tokens: B-X becomes I-X when I-X exists."""
    if label.startswith("B-") and "I-" + label[2:] in label2id:
        return label2id["I-" + label[2:]]
    return label2id[label]


def owners(first_pieces, bounds) -> dict:
    """For each word (by its first piece position), the window where it has the most context on both sides."""
    owner = {}
    for word, position in first_pieces.items():
        best, best_score = None, -1
        for index, (start, end) in enumerate(bounds):
            if start <= position < end:
                score = min(position - start, end - 1 - position)
                if score > best_score:
                    best, best_score = index, score
        owner[word] = best
    return owner


def sentence_windows(first_pieces, content_length, sentence_words, window, context, stride) -> tuple:
    """(bounds, owner) when each sentence of a document gets a window of its own: the sentence's pieces with up to
    `context` pieces of its document on each side (fewer when the window is full), its words owned by it alone.
    A sentence longer than a window is read in overlapping windows of its own pieces, as without context."""
    bounds: list = []
    owner: dict = {}
    word = 0
    for count in sentence_words:
        if not count:
            continue
        start = first_pieces[word]
        end = first_pieces[word + count] if word + count in first_pieces else content_length
        words = {w: first_pieces[w] for w in range(word, word + count)}
        word += count
        if end - start > window:
            own = [(start + a, start + b) for a, b in window_bounds(end - start, window, stride)]
            owner.update({w: len(bounds) + index for w, index in owners(words, own).items()})
            bounds += own
            continue
        room = window - (end - start)
        left, right = min(context, start), min(context, content_length - end)
        if left + right > room:  # share the room, giving a side the other cannot use
            left = min(left, max(room // 2, room - right))
            right = min(right, room - left)
        owner.update(dict.fromkeys(words, len(bounds)))
        bounds.append((start - left, end + right))
    return bounds, owner


def context_reading(stride: int, context: int, mode: str) -> tuple:
    """(stride, sentence_context) of the NerEncoder that reads documents as --document_context N trained them:
    windows overlapping by 2N, or each sentence in its own window with N pieces on each side ('sentence')."""
    if not context:
        return stride, None
    return (stride, context) if mode == "sentence" else (2 * context, None)


class NerEncoder:
    """A picklable batched `Dataset.map` function turning {"tokens", "tags"} into model features."""

    def __init__(self, tokenizer, label2id, max_length, stride, label_all_tokens, sentence_context=None):
        """sentence_context: with documents (a sentence_words column), each sentence gets its own window with this
        many pieces of context on each side; None reads each input as one stream of overlapping windows."""
        self.tokenizer = tokenizer
        self.sentence_context = sentence_context
        self.label2id = label2id
        self.label_all_tokens = label_all_tokens
        special = tokenizer.num_special_tokens_to_add(pair=False)
        self.window = max_length - special
        if self.window < 2:
            raise ValueError(f"max_seq_length {max_length} leaves no room for words")
        self.stride = max(0, min(stride, self.window // 2))

    def encode_words(self, batch_tokens) -> list:
        """Tokenize pre-split words; a word that yields no piece (e.g. a zero-width space) is read as unknown."""
        encoded = self.tokenizer(batch_tokens, is_split_into_words=True, truncation=False, verbose=False)
        rows = []
        for index, words in enumerate(batch_tokens):
            word_ids = encoded.word_ids(index)
            ids, types = encoded["input_ids"][index], encoded.get("token_type_ids")
            types = types[index] if types is not None else None
            if len(set(w for w in word_ids if w is not None)) < len(words):
                present = set(word_ids)
                fixed = [word if i in present else self.tokenizer.unk_token for i, word in enumerate(words)]
                single = self.tokenizer(fixed, is_split_into_words=True, truncation=False, verbose=False)
                word_ids, ids = single.word_ids(), single["input_ids"]
                types = single.get("token_type_ids")
            rows.append((ids, types, word_ids))
        return rows

    def __call__(self, batch, indices):
        features = {"input_ids": [], "attention_mask": [], "labels": [], "word_index": [], "example_id": []}
        with_types = None
        per_sentence = self.sentence_context is not None and "sentence_words" in batch
        sentence_words = batch["sentence_words"] if per_sentence else [None] * len(indices)
        for example_id, tags, (ids, types, word_ids), counts in zip(
            indices, batch["tags"], self.encode_words(batch["tokens"]), sentence_words
        ):
            if with_types is None:
                with_types = types is not None
                if with_types:
                    features["token_type_ids"] = []
            for window in self.windows(ids, types, word_ids, tags, counts):
                for key, value in window.items():
                    features[key].append(value)
                features["example_id"].append(example_id)
        features["length"] = [len(ids) for ids in features["input_ids"]]
        return features

    def windows(self, ids, types, word_ids, tags, sentence_words=None) -> 'Iterator[dict]':
        """Yield the features of each window of one input (a sentence, or a document of sentence_words)."""
        prefix = next(i for i, w in enumerate(word_ids) if w is not None)
        suffix = next(i for i, w in enumerate(reversed(word_ids)) if w is not None)
        end_of_content = len(ids) - suffix
        content_words = word_ids[prefix:end_of_content]
        first_pieces: dict = {}
        for position, word in enumerate(content_words):
            first_pieces.setdefault(word, position)
        if sentence_words is not None:
            bounds, owner = sentence_windows(
                first_pieces, len(content_words), sentence_words, self.window, self.sentence_context, self.stride
            )
        else:
            bounds = window_bounds(len(content_words), self.window, self.stride)
            owner = owners(first_pieces, bounds)
        label_ids = [self.label2id[tag] for tag in tags]
        for index, (start, end) in enumerate(bounds):
            word_index, labels = [NOT_A_WORD] * prefix, [IGNORE_INDEX] * prefix
            for position in range(start, end):
                word = content_words[position]
                owned = owner[word] == index
                is_first = first_pieces[word] == position
                word_index.append(word if owned and is_first else NOT_A_WORD)
                labels.append(self.piece_label(label_ids, tags, word, owned, is_first))
            word_index += [NOT_A_WORD] * suffix
            labels += [IGNORE_INDEX] * suffix
            piece_ids = ids[:prefix] + ids[prefix + start : prefix + end] + ids[end_of_content:]
            window = {
                "input_ids": piece_ids,
                "attention_mask": [1] * len(piece_ids),
                "labels": labels,
                "word_index": word_index,
            }
            if types is not None:
                window["token_type_ids"] = types[:prefix] + types[prefix + start : prefix + end] + types[end_of_content:]
            yield window

    def piece_label(self, label_ids, tags, word, owned, is_first) -> int:
        if not label_ids or not owned:
            return IGNORE_INDEX
        if is_first:
            return label_ids[word]
        if self.label_all_tokens:
            return continuation_label(tags[word], self.label2id)
        return IGNORE_INDEX


def words_from_pieces(piece_predictions, example_ids, word_indices, word_counts, id2label: dict) -> list:
    """Gather one predicted label per word, in input order, from per-piece predictions of every window."""
    sentences = [[None] * count for count in word_counts]
    for row, example_id, word_index in zip(piece_predictions, example_ids, word_indices):
        sentence = sentences[example_id]
        for position, word in enumerate(word_index):
            if word >= 0:
                sentence[word] = id2label[int(row[position])]
    missing = sum(label is None for sentence in sentences for label in sentence)
    if missing:
        raise RuntimeError(f"{missing} words got no prediction: the windows do not cover every word")
    return sentences
