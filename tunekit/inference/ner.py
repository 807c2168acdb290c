"""Entity spans from raw text with a model folder written by run_ner.py.

Text is split into words (CJK characters one by one, other text into word and punctuation runs, like
CoNLL tokens) and sentences, long texts are windowed exactly as in training, and B-/I- word labels are grouped into
spans with character offsets and a score (the mean probability of their words).
"""


import torch

from tunekit.data.words import split_words
from tunekit.encoding.ner import NerEncoder, context_reading
from tunekit.inference.batches import predict_in_length_order
from tunekit.inference.sentences import sentence_lengths



def group_entities(text: str, words, labels, scores) -> list:
    """Spans of consecutive words labelled B-X I-X ... (an I-X after another type starts a new span)."""
    entities: list[dict] = []
    current: dict | None = None
    for (word, start, end), label, score in zip(words, labels, scores):
        prefix, _, kind = label.partition("-")
        if current is not None and prefix == "I" and kind == current["type"]:  # the span continues
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
    """Entities of raw texts. A text is a document split into sentences (sentences.py): a model trained sentence
    by sentence reads each sentence alone; one trained with --document_context reads the text as it was trained
    to (overlapping windows with overlap 2N, or each sentence with N pieces of context on each side)."""

    accepts_pairs = False
    shows = "entities"
    title = "NER model"

    def __init__(self, model, tokenizer, max_length, stride=32, batch_size=32, context=0, context_mode="windows"):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.tokenizer.padding_side = "right"  # logits are read from the left of each row
        self.id2label = {int(k): v for k, v in model.config.id2label.items()}
        # the page lists entity types: tags without their scheme's prefix (B-PER, I-PER: PER)
        self.labels = sorted({label.partition("-")[2] or label for label in self.id2label.values()} - {"O"})
        self.context = context
        stride, sentence_context = context_reading(stride, context, context_mode)
        self.encoder = NerEncoder(
            tokenizer, model.config.label2id, max_length, stride, False, sentence_context=sentence_context
        )
        self.batch_size = batch_size
        # sentences are read alone unless the model reads a text with its document context
        self.cuts_at_sentences = not context

    def records(self, texts: list, pairs: list | None = None, progress=None) -> list[dict]:
        """{"text", "entities"} per text."""
        return [{"text": text, "entities": entities} for text, entities in zip(texts, self.predict(texts, progress))]

    def model_inputs(self, split, sentences) -> tuple:
        """The encoder's batch and, per input, (text index, its first word): a whole text, or one sentence."""
        batch: dict[str, list] = {"tokens": [], "tags": [], "sentence_words": []}
        origins: list = []
        for index, (words, lengths) in enumerate(zip(split, sentences)):
            if not words:
                continue
            tokens = [word for word, _, _ in words]
            if self.context:
                batch["tokens"].append(tokens)
                batch["sentence_words"].append(lengths)
                origins.append((index, 0))
                continue
            first = 0
            for length in lengths:
                batch["tokens"].append(tokens[first : first + length])
                batch["sentence_words"].append([length])
                origins.append((index, first))
                first += length
        batch["tags"] = [[] for _ in origins]
        return batch, origins

    def predict(self, texts, progress=None) -> list:
        """One list of entity dicts per text, in input order."""
        split = [split_words(text) for text in texts]
        sentences = [sentence_lengths(text, words) for text, words in zip(texts, split)]
        batch, origins = self.model_inputs(split, sentences)
        features = self.encoder(batch, list(range(len(origins)))) if origins else {"input_ids": []}
        rows = predict_in_length_order(self.model, self.tokenizer, features, self.batch_size, progress)
        labels = [[None] * len(words) for words in split]
        scores = [[0.0] * len(words) for words in split]
        for row, example, word_index in zip(rows, features.get("example_id", []), features.get("word_index", [])):
            text, first = origins[example]
            probabilities = torch.softmax(row, dim=-1)
            for position, word in enumerate(word_index):
                if word >= 0:
                    best = int(probabilities[position].argmax())
                    labels[text][first + word] = self.id2label[best]
                    scores[text][first + word] = float(probabilities[position, best])
        return [
            sentence_entities(text, words, lengths, labels[index], scores[index])
            for index, (text, words, lengths) in enumerate(zip(texts, split, sentences))
        ]


def sentence_entities(text: str, words, sentence_words, labels, scores) -> list:
    """The text's entities, sentence by sentence: an entity never runs on into the next sentence."""
    entities, first = [], 0
    for length in sentence_words:
        end = first + length
        entities += group_entities(text, words[first:end], labels[first:end], scores[first:end])
        first = end
    return entities
