"""Where the entity errors of a scored NER split come from, beyond seqeval's per-type precision and recall.

Every predicted entity that is not exactly a gold entity is one error, classified against the gold entities of
its sentence that no prediction matched exactly:
- wrong type: the same span as a gold entity, another type;
- wrong boundary: overlapping a gold entity of its type, not the same span;
- wrong boundary and type: overlapping a gold entity of another type only;
- spurious: overlapping no gold entity.
Every gold entity that no prediction matched or overlapped is missed. An error counts under the gold entity's
type (the predicted type for spurious ones). Type-agnostic span scores compare (start, end) pairs only.
Entities are read as seqeval's default mode reads them (an I- tag may start one).
"""

from collections import Counter

KINDS = ("wrong_type", "wrong_boundary", "wrong_boundary_and_type", "missed", "spurious")


def sentence_entities(tags: list) -> set:
    """(type, first word, last word) of a sentence's entities."""
    # imported here: seqeval imports scikit-learn (1 s), which runs that score no tags should not pay for KINDS
    from seqeval.metrics.sequence_labeling import get_entities

    return {(kind, start, end) for kind, start, end in get_entities(list(tags))}


def overlaps(one: tuple, other: tuple) -> bool:
    return one[1] <= other[2] and other[1] <= one[2]


def sentence_errors(gold: set, predicted: set) -> list:
    """(kind, entity type, gold entity or None, predicted entity or None) for every error of one sentence."""
    unmatched_gold = gold - predicted
    errors, explained = [], set()
    for entity in sorted(predicted - gold, key=lambda e: (e[1], e[2], e[0])):
        touching = [g for g in unmatched_gold if overlaps(entity, g)]
        same_span = [g for g in touching if g[1:] == entity[1:]]
        same_type = [g for g in touching if g[0] == entity[0]]
        if same_span:
            errors.append(("wrong_type", same_span[0][0], same_span[0], entity))
            explained.add(same_span[0])
        elif same_type:
            errors.append(("wrong_boundary", same_type[0][0], same_type[0], entity))
            explained.add(same_type[0])
        elif touching:
            first = min(touching, key=lambda g: g[1])
            errors.append(("wrong_boundary_and_type", first[0], first, entity))
            explained.update(touching)
        else:
            errors.append(("spurious", entity[0], None, entity))
    errors += [("missed", g[0], g, None) for g in sorted(unmatched_gold - explained, key=lambda e: (e[1], e[2]))]
    return errors


def span_scores(gold_sentences: list, predicted_sentences: list) -> dict:
    """Precision, recall and F1 of entity spans whatever their type."""
    hits = gold_count = predicted_count = 0
    for gold_tags, predicted_tags in zip(gold_sentences, predicted_sentences):
        gold = {entity[1:] for entity in sentence_entities(gold_tags)}
        predicted = {entity[1:] for entity in sentence_entities(predicted_tags)}
        hits += len(gold & predicted)
        gold_count += len(gold)
        predicted_count += len(predicted)
    precision = hits / predicted_count if predicted_count else 0.0
    recall = hits / gold_count if gold_count else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def shown(entity: tuple | None, words: list) -> dict | None:
    if entity is None:
        return None
    kind, start, end = entity
    return {"type": kind, "words": [start, end + 1], "text": " ".join(words[start : end + 1])}


def entity_errors(words: list, gold_sentences: list, predicted_sentences: list, worst: int = 10) -> dict:
    """{"totals", "per_type", "span", "worst_sentences"} of a split; words: the tokens of each sentence."""
    totals: Counter = Counter()
    per_type: dict = {}
    ranked: list = []
    for index, (tokens, gold_tags, predicted_tags) in enumerate(zip(words, gold_sentences, predicted_sentences)):
        errors = sentence_errors(sentence_entities(gold_tags), sentence_entities(predicted_tags))
        for kind, entity_type, _, _ in errors:
            totals[kind] += 1
            per_type.setdefault(entity_type, Counter())[kind] += 1
        if errors:
            ranked.append((len(errors), index, tokens, gold_tags, predicted_tags, errors))
    ranked.sort(key=lambda item: (-item[0], item[1]))
    return {
        "totals": {kind: totals[kind] for kind in KINDS},
        "per_type": {kind: {error: counts[error] for error in KINDS} for kind, counts in sorted(per_type.items())},
        "span": span_scores(gold_sentences, predicted_sentences),
        "worst_sentences": [
            {
                "sentence": index, "errors": count, "text": " ".join(tokens), "tokens": list(tokens),
                "gold": [shown(e, tokens) for e in sorted(sentence_entities(gold), key=lambda e: e[1])],
                "predicted": [shown(e, tokens) for e in sorted(sentence_entities(predicted), key=lambda e: e[1])],
                "error_list": [{"kind": kind, "type": entity_type, "gold": shown(g, tokens), "predicted": shown(p, tokens)}
                               for kind, entity_type, g, p in errors],
            }
            for count, index, tokens, gold, predicted, errors in ranked[:worst]
        ],
    }
