"""Token-classification data of several corpora (--corpora): each corpus read as a run of its own would read it,
its tags mapped onto the unified label set, and every split laid end to end with a `corpus` column."""

import logging
import datasets

from tunekit.data.corpora import Corpus
from tunekit.data.corpus_labels import CorpusLabels, mapped_tags, tag_type, unify
from tunekit.data.labels import first_occurrences, read_label_file
from tunekit.data.tag_scheme import PLAIN_TASKS, iob2_label_names
from tunekit.data.token_data import load_sentences
from tunekit.errors import UserError

logger = logging.getLogger("tunekit")


class CorporaSource(str):
    """Where a split of several corpora came from: each corpus's name and source."""

    parts: dict

    def __new__(cls, parts: dict):
        source = super().__new__(cls, " + ".join(f"{name}: {where}" for name, where in parts.items()))
        source.parts = parts
        return source


def load_corpus_sentences(corpora: list, data_args, model_args, training_args) -> tuple:
    """(split -> (Dataset of every corpus's sentences, CorporaSource), CorpusLabels), the tags in unified types."""
    if data_args.streaming:
        raise UserError("--corpora reads each corpus whole (to map its labels and mix the corpora): leave out --streaming")
    entity_tags = data_args.task_name not in PLAIN_TASKS
    read = {corpus.name: read_corpus(corpus, data_args, model_args, training_args) for corpus in corpora}
    used = {name: types_used(splits, entity_tags) for name, splits in read.items()}
    declared = None
    if data_args.label_file:
        names = iob2_label_names(read_label_file(data_args.label_file), entity_tags)
        declared = sorted({kind for kind in (tag_type(label, entity_tags) for label in names) if kind is not None})
    labels = unify(corpora, used, declared, f"the label file {data_args.label_file}" if declared is not None else "")
    joined: dict = {}
    for corpus in corpora:
        for split, (dataset, source) in read[corpus.name].items():
            joined.setdefault(split, {})[corpus.name] = (in_unified_labels(dataset, corpus, entity_tags), source)
    splits = {split: (datasets.concatenate_datasets([dataset for dataset, _ in parts.values()]),
                      CorporaSource({name: source for name, (_, source) in parts.items()}))
              for split, parts in joined.items()}
    for corpus in corpora:
        logger.info("Corpus %s (weight %g): %s; annotates %s%s", corpus.name, corpus.weight,
                    ", ".join(f"{split} {len(dataset)} sentences" for split, (dataset, _) in read[corpus.name].items()),
                    ", ".join(labels.annotates[corpus.name]) or "nothing",
                    "; its map: " + ", ".join(f"{a} -> {b or 'O'}" for a, b in corpus.label_map.items())
                    if corpus.label_map else "")
    return splits, labels


def read_corpus(corpus: Corpus, data_args, model_args, training_args) -> dict:
    """The corpus's splits as a run with its data arguments would read them; an error names the corpus."""
    try:
        return load_sentences(corpus.data_arguments(data_args), model_args, training_args)
    except UserError as error:
        raise UserError(f"corpus '{corpus.name}': {error}") from None


def types_used(splits: dict, entity_tags: bool) -> dict:
    """Every type a corpus's splits use -> (file, line) of its first use."""
    found: dict = {}
    for dataset, source in splits.values():
        for tag, where in first_occurrences(dataset, source, "tags").items():
            kind = tag_type(tag, entity_tags)
            if kind is not None and kind not in found:
                found[kind] = where
    return found


def in_unified_labels(dataset, corpus: Corpus, entity_tags: bool) -> 'datasets.Dataset':
    """The corpus's sentences with unified tags, its name in a `corpus` column and its documents named apart from
    other corpora's."""
    def convert(batch):
        return {"tags": [mapped_tags(tags, corpus, entity_tags) for tags in batch["tags"]],
                "document": [f"{corpus.name}/{document}" if document else "" for document in batch["document"]],
                "corpus": [corpus.name] * len(batch["tags"])}

    return dataset.map(convert, batched=True, desc=f"Mapping {corpus.name}'s labels")

