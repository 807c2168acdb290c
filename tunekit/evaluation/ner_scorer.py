"""Scoring token classification: piece predictions mapped back to words and scored with seqeval."""

from typing import TYPE_CHECKING, Optional

from seqeval.metrics import classification_report

from tunekit.encoding.ner import words_from_pieces
from tunekit.evaluation.entity_errors import KINDS, entity_errors
from tunekit.evaluation.entity_scores import SCHEMES, entity_scores, sentence_hits
from tunekit.evaluation.intervals import Statistics, hit_metrics
from tunekit.evaluation.scored import Scored, Scorer

if TYPE_CHECKING:
    import torch


class TagScorer:
    """Scores words' predicted tags against gold: seqeval's figures, each sentence's hits for the intervals, and
    the error analysis. annotates: with several corpora (--corpora), each sentence's corpus and the types it
    annotates; a predicted type a sentence's corpus does not annotate is scored as O there."""

    def __init__(self, tokens, data_args, corpora: Optional[list] = None, annotates: Optional[dict] = None):
        self.tokens = tokens
        self.data_args = data_args
        self.corpora = corpora
        self.annotates = annotates or {}

    def as_scored(self, predicted: list) -> list:
        """The predictions as the scores see them: a type outside the sentence's corpus's annotation is O."""
        if not self.corpora:
            return predicted
        return [outside_of(tags, self.annotates.get(corpus)) for tags, corpus in zip(predicted, self.corpora)]

    def scores_of(self, predicted: list, gold: list) -> Scored:
        """Scored(metrics, the predicted tags per word as predicted, gold tags, seqeval's full scores incl. per type)."""
        # seqeval's figures, computed directly: the evaluate module would first copy both sides into Arrow
        scores = entity_scores(self.as_scored(predicted), gold, self.data_args.seqeval_mode, self.data_args.seqeval_scheme)
        metrics = {key.replace("overall_", ""): value for key, value in scores.items() if key.startswith("overall_")}
        if self.data_args.return_entity_level_metrics:
            for entity_type, values in scores.items():
                if isinstance(values, dict):
                    for name, value in values.items():
                        metrics[f"{entity_type}_{name}"] = value
        return Scored(metrics, predicted, gold, scores)

    def statistics(self, scored: Scored) -> Statistics:
        """Each sentence's entity hits, for the bootstrap intervals of precision, recall and F1."""
        hits = sentence_hits(self.as_scored(scored.predicted), scored.gold, self.data_args.seqeval_mode,
                             self.data_args.seqeval_scheme)
        return Statistics(hits, hit_metrics())

    def error_analysis(self, scored: Scored) -> dict:
        """entity_errors of the split (kinds of error, span scores, the worst sentences)."""
        return entity_errors(self.tokens, scored.gold, self.as_scored(scored.predicted))

    def analysis_metrics(self, analysis: dict) -> dict:
        """The error analysis's figures in the results: span scores and the count of each kind of error."""
        return {**{f"span_{name}": value for name, value in analysis["span"].items()},
                **{f"errors_{kind}": analysis["totals"][kind] for kind in KINDS}}

    def analysis_line(self, analysis: dict) -> str:
        """`span f1 0.8841; errors: 120 wrong type, ...`"""
        counts = ", ".join(f"{analysis['totals'][kind]} {kind.replace('_', ' ')}" for kind in KINDS)
        return f"span f1 {analysis['span']['f1']:.4f}; errors: {counts}"

    def parts(self, scored: Scored) -> list:
        """(corpus name, its scorer, its Scored) for each corpus of the split, scored on its own types."""
        if not self.corpora:
            return []
        parts = []
        for name in dict.fromkeys(self.corpora):
            rows = [index for index, corpus in enumerate(self.corpora) if corpus == name]
            part = TagScorer([self.tokens[i] for i in rows], self.data_args, [name] * len(rows), self.annotates)
            parts.append((name, part, part.scores_of([scored.predicted[i] for i in rows], [scored.gold[i] for i in rows])))
        return parts


class NerScorer(TagScorer, Scorer):
    """Scores one encoded split: maps piece predictions back to one tag per word and scores them with seqeval."""

    def __init__(self, sentences, features, id2label: dict, data_args, documents=None, annotates: Optional[dict] = None):
        corpora = sentences["corpus"] if annotates and "corpus" in sentences.column_names else None
        super().__init__(sentences["tokens"], data_args, corpora, annotates)
        self.gold = sentences["tags"]
        # encoded by document (--document_context): predictions come per document and are split into sentences
        self.documents = documents
        inputs = documents if documents is not None else sentences
        self.word_counts = [len(tokens) for tokens in inputs["tokens"]]
        self.example_ids = features["example_id"]
        self.word_indices = features["word_index"]
        self.id2label = id2label

    def score(self, eval_prediction) -> Scored:
        """Scored(metrics, predicted tags per word, gold tags, seqeval's full scores incl. per type)."""
        predicted = words_from_pieces(
            eval_prediction.predictions, self.example_ids, self.word_indices, self.word_counts, self.id2label
        )
        if self.documents is not None:
            predicted = split_into_sentences(predicted, self.documents["sentence_words"], self.documents["sentences"])
        if not any(self.gold):
            return Scored({}, predicted, self.gold, {})
        return self.scores_of(predicted, self.gold)


def outside_of(tags: list, types: Optional[tuple]) -> list:
    """IOB2 tags with every type not in `types` as O (types None: tags that are labels of their own, as POS)."""
    if types is None:
        return tags
    return [tag if tag == "O" or tag[2:] in types else "O" for tag in tags]


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
