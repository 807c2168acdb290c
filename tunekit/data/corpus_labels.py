"""The unified label set of several corpora: each corpus's types mapped onto it, checked, and what each corpus
annotates (the unified types it maps onto, unless it says)."""

import os
from dataclasses import dataclass
from typing import Optional

from tunekit.data.corpora import OUTSIDE, PATH_KEYS, Corpus
from tunekit.data.tag_scheme import tag_parts
from tunekit.errors import UserError, at


@dataclass(frozen=True)
class CorpusLabels:
    """The unified types (sorted) and, per corpus name, the unified types it annotates."""

    unified: tuple
    annotates: dict

    def described(self, corpora: list) -> list:
        """Per corpus, what the model folder records: its label map and the types it annotates."""
        return [{"name": corpus.name, "data": {key: os.path.abspath(value) if key in PATH_KEYS else value
                                                for key, value in corpus.data.items()},
                 "weight": corpus.weight, "label_map": dict(corpus.label_map),
                 "annotates": list(self.annotates[corpus.name])} for corpus in corpora]


def tag_type(tag: str, entity_tags: bool) -> Optional[str]:
    """The type of an IOB2 tag (None for O); a plain label (POS) is its own type."""
    if not entity_tags:
        return tag
    prefix, kind = tag_parts(tag)
    return None if prefix == OUTSIDE else kind


def mapped_tags(tags: list, corpus: Corpus, entity_tags: bool) -> list:
    """A sentence's IOB2 tags with each type mapped onto its unified type; a type mapped to nothing becomes O."""
    if not corpus.label_map:
        return list(tags)
    mapped = []
    for tag in tags:
        kind = tag_type(tag, entity_tags)
        unified = corpus.unified(kind) if kind is not None else None
        if kind is None or unified is None:
            mapped.append(OUTSIDE)
        else:
            mapped.append(f"{tag[:2]}{unified}" if entity_tags else unified)
    return mapped


def unify(corpora: list, used: dict, declared: Optional[list] = None, declared_by: str = "") -> CorpusLabels:
    """The unified types and what each corpus annotates, checked.

    used: corpus name -> {its type: (file, line) of its first use}. declared: the unified types a label file gives
    (declared_by names it); without one they are every map's targets and the types of corpora without a map."""
    if declared is not None:
        unified = set(declared)
    else:
        unified = {target for corpus in corpora for target in corpus.label_map.values() if target is not None}
        unified |= {kind for corpus in corpora if not corpus.label_map for kind in used[corpus.name]}
    listing = ", ".join(sorted(unified)) or "none"
    where = f" ({listing}{', from ' + declared_by if declared_by else ''})"
    annotates = {}
    for corpus in corpora:
        label = f"corpus '{corpus.name}'"
        for source, target in corpus.label_map.items():
            if target is not None and target not in unified:
                raise UserError(f"{label}: its label map sends {source} to {target}, which is not in the unified label "
                                f"set{where}")
        for kind, (path, line) in used[corpus.name].items():
            if kind in corpus.label_map or kind in unified:
                continue
            fix = f"map it onto one of {listing}, or onto O" if corpus.label_map else \
                f"map it with {corpus.name}.map={kind}:UNIFIED (or {kind}:O)"
            problem = "not covered by its label map" if corpus.label_map else "not in the unified label set"
            raise at(path, line, f"{label} uses {kind}, which is {problem}{where if not corpus.label_map else ''}: {fix}")
        if corpus.annotates is not None:
            strange = [kind for kind in corpus.annotates if kind not in unified]
            if strange:
                raise UserError(f"{label}: annotates {strange[0]}, which is not in the unified label set{where}")
            annotates[corpus.name] = tuple(sorted(corpus.annotates))
        else:
            found = {corpus.unified(kind) for kind in used[corpus.name]}
            annotates[corpus.name] = tuple(sorted(kind for kind in found if kind is not None))
    return CorpusLabels(tuple(sorted(unified)), annotates)
