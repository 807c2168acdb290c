"""Encoding every split with Dataset.map (batched, cached, optionally in several processes)."""

import logging

import datasets

from tunekit.encoding.lengths import add_lengths

logger = logging.getLogger("tunekit")


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
