"""Partial annotation across corpora (--corpora): where a corpus that does not annotate every unified type says
O, the word may still be of a type the corpus leaves out. Training then counts the probability of O and of those
types' labels together (losses.CrossEntropyLoss, the CRF's likelihood), not of O alone, so a corpus without MISC
does not teach the model that MISC-like mentions are O."""

from dataclasses import dataclass
from typing import Any, Optional

import datasets

from tunekit.encoding import PARTIAL_BASE

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
    it says O, or None), and those sets of label ids. config.json gets a copy for the card and the CRF's loss
    (`config()`); the run never reads it back."""

    corpora: tuple
    label_sets: Optional[tuple]

    @classmethod
    def of(cls, described: list, labels: list) -> "RunCorpora":
        sets = partial_label_sets(labels, {corpus["name"]: corpus["annotates"] for corpus in described})
        names = list(sets)
        corpora = tuple(dict(corpus, partial_set=names.index(corpus["name"]) if corpus["name"] in sets else None)
                        for corpus in described)
        return cls(corpora, tuple(sets[name] for name in names) or None)

    def config(self) -> dict:
        """What the model config records of the corpora, and the sets themselves (config.partial_label_sets)."""
        return {"corpora": [dict(corpus) for corpus in self.corpora],
                "partial_label_sets": [list(ids) for ids in self.label_sets] if self.label_sets else None}

    def weights(self) -> dict:
        return {corpus["name"]: corpus["weight"] for corpus in self.corpora}

    def annotated_types(self, entity_tags: bool) -> dict:
        """Corpus name -> the types it annotates (None: tags that are labels of their own), for its own scores."""
        return {corpus["name"]: tuple(corpus["annotates"]) if entity_tags else None for corpus in self.corpora}


def partial_tag(corpus: str) -> str:
    return f"{OUTSIDE}?{corpus}"


def with_partial_tags(sentences: Any, run_corpora: Optional[RunCorpora]) -> tuple:
    """(the training sentences with every O of a partly annotated corpus tagged as its set, the label ids the
    encoder then needs); unchanged where no corpus leaves a type out."""
    corpora = [corpus for corpus in (run_corpora.corpora if run_corpora else ()) if corpus["partial_set"] is not None]
    dataset, source = sentences
    if not corpora or not isinstance(dataset, datasets.Dataset) or "corpus" not in dataset.column_names:
        return sentences, {}
    tags_of = {corpus["name"]: partial_tag(corpus["name"]) for corpus in corpora}

    def retag(batch):
        return {"tags": [[tags_of[name] if tag == OUTSIDE else tag for tag in tags] if name in tags_of else tags
                         for name, tags in zip(batch["corpus"], batch["tags"])]}

    retagged = dataset.map(retag, batched=True, desc="Marking what partly annotated corpora leave open")
    return (retagged, source), {partial_tag(corpus["name"]): code(corpus["partial_set"]) for corpus in corpora}


def code(index: int) -> int:
    return PARTIAL_BASE - index
