"""Scoring token classification: piece predictions mapped back to words and scored with seqeval."""

from typing import TYPE_CHECKING

from seqeval.metrics import classification_report

from tunekit.encoding.ner import words_from_pieces
from tunekit.evaluation.entity_errors import entity_errors
from tunekit.evaluation.entity_scores import SCHEMES, entity_scores, sentence_hits
from tunekit.evaluation.intervals import Statistics, hit_metrics
from tunekit.evaluation.scored import Scored

if TYPE_CHECKING:
    import torch


class NerScorer:
    """Scores one encoded split: maps piece predictions back to one tag per word and scores them with seqeval."""

    def __init__(self, sentences, features, id2label: dict, data_args, documents=None):
        self.sentences = sentences
        self.gold = sentences["tags"]
        # encoded by document (--document_context): predictions come per document and are split into sentences
        self.documents = documents
        inputs = documents if documents is not None else sentences
        self.word_counts = [len(tokens) for tokens in inputs["tokens"]]
        self.example_ids = features["example_id"]
        self.word_indices = features["word_index"]
        self.id2label = id2label
        self.data_args = data_args

    def score(self, eval_prediction) -> Scored:
        """Scored(metrics, predicted tags per word, gold tags, seqeval's full scores incl. per type)."""
        predicted = words_from_pieces(
            eval_prediction.predictions, self.example_ids, self.word_indices, self.word_counts, self.id2label
        )
        if self.documents is not None:
            predicted = split_into_sentences(predicted, self.documents["sentence_words"], self.documents["sentences"])
        if not any(self.gold):
            return Scored({}, predicted, self.gold, {})
        # seqeval's figures, computed directly: the evaluate module would first copy both sides into Arrow
        scores = entity_scores(predicted, self.gold, self.data_args.seqeval_mode, self.data_args.seqeval_scheme)
        metrics = {key: value for key, value in scores.items() if key.startswith("overall_")}
        metrics = {key.replace("overall_", ""): value for key, value in metrics.items()}
        if self.data_args.return_entity_level_metrics:
            for entity_type, values in scores.items():
                if isinstance(values, dict):
                    for name, value in values.items():
                        metrics[f"{entity_type}_{name}"] = value
        return Scored(metrics, predicted, self.gold, scores)

    def statistics(self, scored: Scored) -> Statistics:
        """Each sentence's entity hits, for the bootstrap intervals of precision, recall and F1."""
        hits = sentence_hits(scored.predicted, scored.gold, self.data_args.seqeval_mode, self.data_args.seqeval_scheme)
        return Statistics(hits, hit_metrics())

    def error_analysis(self, scored: Scored) -> dict:
        """entity_errors of the split (kinds of error, span scores, the worst sentences)."""
        return entity_errors(self.sentences["tokens"], scored.gold, scored.predicted)


def split_into_sentences(documents: list, sentence_words: list, positions: list) -> list:
    """Per-document word predictions cut back into the sentences they were made of, each put back at its input
    position (documents_of's `sentences`)."""
    sentences = [None] * sum(len(counts) for counts in sentence_words)
    for predicted, counts, places in zip(documents, sentence_words, positions):
        start = 0
        for count, place in zip(counts, places):
            sentences[place] = predicted[start : start + count]
            start += count
    return sentences


def entity_report(gold: list, predicted: list, data_args) -> str:
    """seqeval's per-type classification report, as text."""
    return classification_report(
        gold,
        predicted,
        digits=4,
        mode=data_args.seqeval_mode,
        scheme=SCHEMES.get(data_args.seqeval_scheme) if data_args.seqeval_scheme else None,
        zero_division=0,
    )


def argmax_logits(logits, labels) -> 'torch.Tensor':
    """Keep only the predicted label ids during evaluation, not the full logits."""
    del labels
    return logits.argmax(dim=-1)
