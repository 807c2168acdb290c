"""Token-classification data: sentences (tokens, tags in IOB2, line) from files, folders or the Hub; the tag set's
order; documents."""

import logging

import datasets

from tunekit.data.labels import read_label_file
from tunekit.data.readers import TokenReadOptions, read_token_file
from tunekit.data.tag_scheme import PLAIN_TASKS, retag_file
from tunekit.data.readers.fields import DOCUMENT_FIELD, SENTENCE_ID_FIELD, TASK_COLUMNS, sentence_position
from tunekit.data.sources import load_hub_dataset, load_splits
from tunekit.errors import UserError

logger = logging.getLogger("tunekit")

SENTENCE_FEATURES = datasets.Features(
    {
        "tokens": datasets.Sequence(datasets.Value("string")),
        "tags": datasets.Sequence(datasets.Value("string")),
        "line": datasets.Value("int64"),
        "document": datasets.Value("string"),
        "sentence_id": datasets.Value("int64"),
        "scheme": datasets.Value("string"),  # the scheme the tags were written in (tag_scheme.py), before IOB2
        "retagged": datasets.Value("int64"),  # tags of the sentence rewritten to IOB2
    }
)


def read_options(data_args, split: str) -> TokenReadOptions:
    label_column = data_args.label_column
    if label_column is None:
        label_column = TASK_COLUMNS[data_args.task_name]
    return TokenReadOptions(
        file_format=data_args.file_format,
        label_column=label_column,
        text_field=data_args.text_column_name,
        label_field=data_args.label_column_name,
        strip_token_suffix=data_args.strip_token_suffix,
        labels_required=split != "test",
        entity_tags=data_args.task_name not in PLAIN_TASKS,
        id_names=read_label_file(data_args.label_file) if data_args.label_file else None,
    )


def load_sentences(data_args, model_args, training_args) -> dict:
    """split -> (Dataset of tokens/tags/line, where it came from) for the splits this run needs."""
    return load_splits(
        data_args,
        training_args,
        read_token_file,
        lambda split: read_options(data_args, split),
        SENTENCE_FEATURES,
        lambda: hub_sentences(data_args, model_args),
    )


def hub_sentences(data_args, model_args) -> dict:
    """A Hub token-classification dataset converted to tokens/tags(strings)/line/document (its document_id column)."""
    loaded = load_hub_dataset(data_args, model_args)
    token_column = data_args.text_column_name or "tokens"
    tag_column = data_args.label_column_name or f"{data_args.task_name}_tags"
    splits = {}
    for split, dataset in loaded.items():
        name = {"dev": "validation", "valid": "validation"}.get(split, split)
        for column in (token_column, tag_column):
            if column not in dataset.column_names:
                raise UserError(
                    f"{data_args.dataset_name}[{split}]: no column '{column}' (columns: {', '.join(dataset.column_names)})"
                )
        feature = dataset.features[tag_column]
        # integer tags are named by the dataset's ClassLabel feature, else by --label_file
        names = getattr(getattr(feature, "feature", None), "names", None)
        source = f"{data_args.dataset_name}[{split}]"
        raw_tags = [[str(tag) for tag in row] for row in dataset[tag_column]]
        scheme, converted, changed = retag_file(
            raw_tags, list(range(1, len(raw_tags) + 1)), source, data_args.task_name not in PLAIN_TASKS,
            names or (read_label_file(data_args.label_file) if data_args.label_file else None),
        )

        def convert(batch, indices, source=source, scheme=scheme.description(), converted=converted, changed=changed):
            documents = batch.get(DOCUMENT_FIELD) or [None] * len(indices)
            positions = batch.get(SENTENCE_ID_FIELD) or [None] * len(indices)
            return {"tokens": batch[token_column], "tags": [converted[i] for i in indices],
                    "line": [i + 1 for i in indices],
                    "document": ["" if document is None else str(document) for document in documents],
                    "sentence_id": [sentence_position(p, source, i + 1) for p, i in zip(positions, indices)],
                    "scheme": [scheme] * len(indices), "retagged": [changed[i] for i in indices]}

        converted = dataset.map(
            convert, batched=True, with_indices=True, remove_columns=dataset.column_names, features=SENTENCE_FEATURES
        )
        splits[name] = (converted, source)
    return splits


def order_ner_labels(occurrences) -> list:
    """Sorted, as the official run_ner.py does, so label ids match when users switch scripts."""
    return sorted(occurrences)


def documents_of(sentences) -> "datasets.Dataset | None":
    """The split's documents, in the order they first appear, each the sentences with its document id laid end to
    end in the order of their sentence_id (input order where a sentence has none): tokens, tags, line (of its first
    sentence), sentence_words (words per sentence) and sentences (their input positions, to put predictions back).
    Sentences without a document are documents of their own. None when no sentence names a document."""
    documents = sentences["document"]
    if not any(documents):
        return None
    groups: list = []
    by_document: dict = {}
    for index, document in enumerate(documents):
        if not document:
            groups.append([index])
        elif document in by_document:
            by_document[document].append(index)
        else:
            by_document[document] = [index]
            groups.append(by_document[document])
    positions = sentences["sentence_id"]
    groups = [
        sorted(group, key=lambda i: positions[i]) if all(positions[i] >= 0 for i in group) else group
        for group in groups
    ]
    tokens, tags, lines = sentences["tokens"], sentences["tags"], sentences["line"]
    return datasets.Dataset.from_dict({
        "tokens": [[word for i in group for word in tokens[i]] for group in groups],
        "tags": [[tag for i in group for tag in tags[i]] for group in groups],
        "line": [lines[group[0]] for group in groups],
        "sentence_words": [[len(tokens[i]) for i in group] for group in groups],
        "sentences": groups,
    })
