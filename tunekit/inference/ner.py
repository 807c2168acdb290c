"""Entity spans from raw text with a model folder written by run_ner.py.

Text is split into words (CJK characters one by one, other text into word and punctuation runs, like
CoNLL tokens), long texts are windowed exactly as in training, and B-/I- word labels are grouped into
spans with character offsets and a score (the mean probability of their words).
"""

import re

import torch

from tunekit.encoding.ner import NerEncoder
from tunekit.inference.batches import predict_in_length_order

CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
WORD = re.compile(rf"[{CJK}]|[^\W{CJK}]+|[^\w\s]", re.UNICODE)


def split_words(text: str) -> list:
    """(word, start, end) for each word of a raw text."""
    return [(match.group(), match.start(), match.end()) for match in WORD.finditer(text)]


def group_entities(text: str, words, labels, scores) -> list:
    """Spans of consecutive words labelled B-X I-X ... (an I-X after another type starts a new span)."""
    entities, current = [], None
    for (word, start, end), label, score in zip(words, labels, scores):
        prefix, _, kind = label.partition("-")
        continues = current is not None and prefix == "I" and kind == current["type"]
        if continues:
            current["end"] = end
            current["scores"].append(score)
            continue
        if current is not None:
            entities.append(current)
            current = None
        if prefix in ("B", "I", "S", "E") and kind:
            current = {"type": kind, "start": start, "end": end, "scores": [score]}
    if current is not None:
        entities.append(current)
    return [
        {
            "type": entity["type"],
            "start": entity["start"],
            "end": entity["end"],
            "text": text[entity["start"] : entity["end"]],
            "score": round(sum(entity["scores"]) / len(entity["scores"]), 6),
        }
        for entity in entities
    ]


class NerPredictor:
    def __init__(self, model, tokenizer, max_length, stride=32, batch_size=32):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.tokenizer.padding_side = "right"  # logits are read from the left of each row
        self.id2label = {int(k): v for k, v in model.config.id2label.items()}
        self.encoder = NerEncoder(tokenizer, model.config.label2id, max_length, stride, False)
        self.batch_size = batch_size

    def predict(self, texts, progress=None) -> list:
        """One list of entity dicts per text, in input order."""
        split = [split_words(text) for text in texts]
        keep = [index for index, words in enumerate(split) if words]
        batch = {"tokens": [[w for w, _, _ in split[i]] for i in keep], "tags": [[] for _ in keep]}
        features = self.encoder(batch, list(range(len(keep)))) if keep else {"input_ids": []}
        rows = predict_in_length_order(self.model, self.tokenizer, features, self.batch_size, progress)
        labels = [[None] * len(split[i]) for i in keep]
        scores = [[0.0] * len(split[i]) for i in keep]
        for row, example, word_index in zip(rows, features.get("example_id", []), features.get("word_index", [])):
            probabilities = torch.softmax(row, dim=-1)
            for position, word in enumerate(word_index):
                if word >= 0:
                    best = int(probabilities[position].argmax())
                    labels[example][word] = self.id2label[best]
                    scores[example][word] = float(probabilities[position, best])
        results = [[] for _ in texts]
        for slot, index in enumerate(keep):
            results[index] = group_entities(texts[index], split[index], labels[slot], scores[slot])
        return results
