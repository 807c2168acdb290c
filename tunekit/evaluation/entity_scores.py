"""Entity-level precision, recall and F1 per type and overall, with token accuracy: seqeval's scores.

seqeval's classification_report extracts the entities of both sides again for every figure it reports (twenty
passes over CoNLL-2003 test, a second of a prediction run). In its default mode the entities are taken here once
per side with seqeval's own get_entities and counted once; the figures follow seqeval's definitions
(zero_division 0; tests/test_entity_scores.py checks them against classification_report). Strict mode with a
scheme is left to seqeval itself.
"""

from collections import Counter

import numpy as np
from seqeval.metrics import accuracy_score, classification_report
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import BILOU, IOB1, IOB2, IOBES, IOE1, IOE2, Entities

SCHEMES = {"IOB1": IOB1, "IOB2": IOB2, "IOE1": IOE1, "IOE2": IOE2, "IOBES": IOBES, "BILOU": BILOU}


def ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def figures(true_positives: int, predicted: int, gold: int) -> dict:
    precision, recall = ratio(true_positives, predicted), ratio(true_positives, gold)
    f1 = 2 * precision * recall / (precision + recall) if true_positives else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "number": gold}


def default_mode_scores(predictions: list, references: list) -> tuple[dict, dict]:
    gold = {(kind, start, end) for kind, start, end in get_entities(references)}
    predicted = {(kind, start, end) for kind, start, end in get_entities(predictions)}
    hits = Counter(kind for kind, _, _ in gold & predicted)
    gold_counts, predicted_counts = Counter(k for k, _, _ in gold), Counter(k for k, _, _ in predicted)
    scores = {kind: figures(hits[kind], predicted_counts[kind], gold_counts[kind])
              for kind in sorted(set(gold_counts) | set(predicted_counts))}
    overall = figures(sum(hits.values()), len(predicted), len(gold))
    return scores, overall


def strict_mode_scores(predictions: list, references: list, scheme) -> tuple:
    report = classification_report(y_true=references, y_pred=predictions, mode="strict", scheme=scheme,
                                   output_dict=True, zero_division=0)
    overall = report.pop("micro avg")
    for average in ("macro avg", "weighted avg"):
        report.pop(average, None)

    def converted(values):
        return {"precision": float(values["precision"]), "recall": float(values["recall"]),
                "f1": float(values["f1-score"]), "number": int(values["support"])}

    return {kind: converted(values) for kind, values in report.items()}, converted(overall)


def entity_scores(predictions: list, references: list, mode: str | None = None, scheme: str | None = None) -> dict:
    """{type: {precision, recall, f1, number}, overall_precision, overall_recall, overall_f1, overall_accuracy},
    as the HuggingFace seqeval metric returns them."""
    if scheme is not None and scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme}: choose one of {', '.join(SCHEMES)}")
    if mode == "strict":
        scores, overall = strict_mode_scores(predictions, references, SCHEMES.get(scheme) if scheme else None)
    else:
        scores, overall = default_mode_scores(predictions, references)
    for name in ("precision", "recall", "f1"):
        scores[f"overall_{name}"] = float(overall[name])
    scores["overall_accuracy"] = float(accuracy_score(y_true=references, y_pred=predictions))
    return scores


def sentence_hits(predictions: list, references: list, mode: str | None = None, scheme: str | None = None) -> np.ndarray:
    """(entities found exactly, predicted, gold) of each sentence, read as entity_scores reads them: their sums
    give its overall figures (the bootstrap resamples sentences)."""
    if mode == "strict":
        scheme_class = SCHEMES[scheme or "IOB2"]

        def entities(tags):
            return {entity.to_tuple()[1:] for entity in Entities([list(tags)], scheme_class, suffix=False).entities[0]}
    else:
        def entities(tags):
            return set(get_entities(list(tags)))

    rows = np.zeros((len(references), 3), dtype=np.int64)
    for index, (predicted_tags, gold_tags) in enumerate(zip(predictions, references)):
        predicted, gold = entities(predicted_tags), entities(gold_tags)
        rows[index] = (len(predicted & gold), len(predicted), len(gold))
    return rows
