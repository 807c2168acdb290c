"""Partial annotation across corpora (--corpora): where a corpus that does not annotate every unified type says
O, the word may still be of a type the corpus leaves out. Training then counts the probability of O and of those
types' labels together (losses.CrossEntropyLoss, the CRF's likelihood), not of O alone, so a corpus without MISC
does not teach the model that MISC-like mentions are O. A training row says which set it may be taught in its
`label_set` column (encoding/row_attributes.py); its labels stay the corpus's own."""

from dataclasses import dataclass
from typing import Any, Optional

import datasets

from tunekit.encoding.row_attributes import LABEL_SET, LabelSets, with_row_attribute

OUTSIDE = "O"


def partial_label_sets(labels: list, annotates: dict) -> dict:
    """Corpus name -> the label ids allowed where it says O (O, and the B-/I- labels of the unified types it does
    not annotate), for each corpus that leaves some type out; {} for labels without O (POS)."""
    if OUTSIDE not in labels:
        return {}
    types = {label[2:] for label in labels if label != OUTSIDE}
    sets = {}
    for name, kinds in annotates.items():
        missing = types - set(kinds)
        if missing:
            sets[name] = [index for index, label in enumerate(labels) if label == OUTSIDE or label[2:] in missing]
    return sets


@dataclass(frozen=True)
class RunCorpora:
    """A run's corpora (--corpora) as its steps use them, passed down from reading: each corpus as the folder
    records it (name, data, weight, label map, the types it annotates, the index of the set of labels allowed where
    it says O, or None), and those sets of label ids. config.json gets a copy that describes the folder (the card
    reads it; `config()`); the run never reads it back."""

    corpora: tuple
    label_sets: Optional[LabelSets]

    @classmethod
    def of(cls, described: list, labels: list) -> "RunCorpora":
        sets = partial_label_sets(labels, {corpus["name"]: corpus["annotates"] for corpus in described})
        names = list(sets)
        corpora = tuple(dict(corpus, partial_set=names.index(corpus["name"]) if corpus["name"] in sets else None)
                        for corpus in described)
        if not sets:
            return cls(corpora, None)
        return cls(corpora, LabelSets(labels.index(OUTSIDE), tuple(tuple(sets[name]) for name in names), len(labels)))

    def config(self) -> dict:
        """What the model config records of the corpora, and the sets themselves (config.partial_label_sets)."""
        return {"corpora": [dict(corpus) for corpus in self.corpora],
                "partial_label_sets": [list(ids) for ids in self.label_sets.sets] if self.label_sets else None}

    def weights(self) -> dict:
        return {corpus["name"]: corpus["weight"] for corpus in self.corpora}

    def annotated_types(self, entity_tags: bool) -> dict:
        """Corpus name -> the types it annotates (None: tags that are labels of their own), for its own scores."""
        return {corpus["name"]: tuple(corpus["annotates"]) if entity_tags else None for corpus in self.corpora}


def with_label_sets(rows: Any, corpus_of_examples: list, run_corpora: Optional[RunCorpora]) -> Any:
    """The encoded training rows with the `label_set` of each row's corpus (corpus_of_examples: by example_id);
    unchanged where no corpus leaves a type out, or for streamed rows (read as they come, they keep their gold)."""
    if run_corpora is None or run_corpora.label_sets is None or not isinstance(rows, datasets.Dataset):
        return rows
    set_of = {corpus["name"]: corpus["partial_set"] for corpus in run_corpora.corpora}
    return with_row_attribute(rows, LABEL_SET, [-1 if set_of[corpus_of_examples[example]] is None
                                                else set_of[corpus_of_examples[example]]
                                                for example in rows["example_id"]])
