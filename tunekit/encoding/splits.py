"""Encoding every split with Dataset.map (batched, cached, optionally in several processes)."""

import hashlib
import logging
from typing import Any

import datasets
from datasets.fingerprint import Hasher

from tunekit import compat
from tunekit.encoding.lengths import add_lengths

logger = logging.getLogger("tunekit")


def encoding_fingerprint(dataset: datasets.Dataset, encoder: Any, with_indices: bool) -> str | None:
    """The cache key of an encoded split, from what decides it: the split's own key, the encoder's class and
    settings, and its tokenizer's whole definition (vocabulary, normalisation, special tokens). datasets would
    otherwise pickle the tokenizer to make the key: about a second per split, most of a small run's encoding.
    None (datasets makes the key) for an encoder without a fast tokenizer or a split without a key."""
    tokenizer = getattr(encoder, "tokenizer", None)
    backend = getattr(tokenizer, "backend_tokenizer", None)
    split_key = compat.dataset_fingerprint(dataset)
    if tokenizer is None or backend is None or split_key is None:
        return None
    settings = {name: value for name, value in vars(encoder).items() if name != "tokenizer"}
    definition = hashlib.sha256(backend.to_str().encode("utf-8")).hexdigest()
    return Hasher.hash([split_key, type(encoder).__module__, type(encoder).__qualname__, settings, definition,
                        type(tokenizer).__name__, repr(sorted(tokenizer.init_kwargs.items())), with_indices])


def encode_splits(splits: dict, encoder, data_args, training_args, with_indices: bool = False) -> dict:
    """split -> encoded dataset, with a length column; streamed splits are encoded lazily, as training reads them."""
    encoded = {}
    for split, (dataset, source) in splits.items():
        if isinstance(dataset, datasets.IterableDataset):
            encoded[split] = dataset.map(
                encoder, batched=True, with_indices=with_indices, remove_columns=list(dataset.features)
            )
            logger.info("%s: streaming from %s", split, source)
            continue
        with training_args.main_process_first(desc=f"tokenizing {split}"):
            encoded[split] = dataset.map(
                encoder,
                batched=True,
                with_indices=with_indices,
                remove_columns=dataset.column_names,
                num_proc=data_args.preprocessing_num_workers,
                load_from_cache_file=not data_args.overwrite_cache,
                new_fingerprint=encoding_fingerprint(dataset, encoder, with_indices),
                desc=f"Tokenizing {split}",
            )
            encoded[split] = add_lengths(encoded[split])
        logger.info("%s: %d examples from %s, %d model inputs", split, len(dataset), source, len(encoded[split]))
    return encoded


def pad_multiple(data_args, training_args) -> int | None:
    """--pad_to_multiple_of, or 8 with mixed precision: bf16 on CPU goes through oneDNN, which caches kernels per
    shape, and lengths rounded to 8 keep that cache small (docs/speed.md has the memory figures)."""
    if data_args.pad_to_multiple_of is not None:
        return data_args.pad_to_multiple_of if data_args.pad_to_multiple_of > 1 else None
    return 8 if (training_args.fp16 or training_args.bf16) else None


def padding_options(data_args, training_args, max_length: int) -> dict:
    """Collator padding: each batch to its longest (default) or every example to max_seq_length."""
    return {
        "padding": "max_length" if data_args.pad_to_max_length else True,
        "max_length": max_length if data_args.pad_to_max_length else None,
        "pad_to_multiple_of": pad_multiple(data_args, training_args),
    }
