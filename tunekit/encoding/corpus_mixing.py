"""How training draws from several corpora (--corpora, --corpus_mixing): each corpus's share of an epoch is its
weight x its size ^ exponent (1: in proportion to size, as plain concatenation; 0.5, 'tempered': towards the
smaller corpora). The share is made by repeating rows, never by dropping them: the corpus whose share asks the
least of it keeps its rows once, the others are repeated (whole copies, then a seeded sample for the fraction).
The result is an ordinary training set, so shuffling, length buckets and packing work on it unchanged."""

import logging
import math
import random
from typing import Any

logger = logging.getLogger("tunekit")

MIXINGS = {"proportional": 1.0, "tempered": 0.5}


def mixing_exponent(value: str) -> float:
    """--corpus_mixing: proportional (1), tempered (0.5) or an exponent in (0, 1]."""
    if value in MIXINGS:
        return MIXINGS[value]
    try:
        exponent = float(value)
    except ValueError:
        exponent = math.nan
    if not 0 < exponent <= 1:
        raise ValueError(f"--corpus_mixing must be proportional, tempered or an exponent above 0 and at most 1, not {value}")
    return exponent


def repeats(sizes: dict, weights: dict, exponent: float) -> dict:
    """Corpus name -> how many times its rows are drawn per epoch (1 or more; the least asked-of corpus: 1)."""
    shares = {name: weights[name] * size ** exponent for name, size in sizes.items() if size}
    scale = max(sizes[name] / share for name, share in shares.items())
    return {name: scale * share / sizes[name] for name, share in shares.items()}


def mixed_rows(rows: Any, corpus_of_rows: list, sentences: dict, weights: dict, exponent: float, seed: int) -> Any:
    """The training rows with each corpus's rows repeated to its share (logged). The shares count sentences
    (sentences: corpus name -> its training sentences), not rows: with document context a corpus of long
    documents has few rows of many sentences, and a corpus of tweets a row per tweet."""
    by_corpus: dict = {}
    for index, name in enumerate(corpus_of_rows):
        by_corpus.setdefault(name, []).append(index)
    times = repeats({name: sentences[name] for name in by_corpus}, weights, exponent)
    if all(abs(value - 1) < 1e-9 for value in times.values()):
        return rows
    chosen: list = []
    generator = random.Random(seed)
    for name, indices in by_corpus.items():
        whole, fraction = divmod(times[name], 1)
        chosen += indices * int(whole) + generator.sample(indices, round(fraction * len(indices)))
    logger.info("Corpus mixing (exponent %g): %s per epoch", exponent, ", ".join(
        f"{name} {sentences[name]} sentences x{times[name]:.2f}" for name in by_corpus))
    return rows.select(sorted(chosen))
