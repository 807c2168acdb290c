"""--max_seq_length auto: the length that covers a share of the tokenized training examples, with the
distribution logged and the longer examples counted."""

import logging
import math

import numpy as np

from tunekit.errors import UserError

logger = logging.getLogger("tunekit")


def requested_length(value) -> 'int | str | None':
    """--max_seq_length as given: None, 'auto', or a number (from flags it arrives as text)."""
    if value is None or value == "auto":
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        raise UserError(f"--max_seq_length must be a number or 'auto', not '{value}'") from None


def covering_length(lengths, coverage: float, limit) -> int:
    """The smallest length that at least `coverage` of `lengths` fit in, at most the model's limit."""
    lengths = np.sort(np.asarray(lengths))
    index = max(math.ceil(coverage * len(lengths)) - 1, 0)
    return int(min(lengths[index], limit))


def choose_max_length(data_args, tokenizer, config, train_dataset, measure, longer_means: str) -> int:
    """The max length for this run. For 'auto', measure(batch) -> pieces per example of the raw training split;
    longer_means says what happens to longer examples (windowed, truncated)."""
    requested = requested_length(data_args.max_seq_length)
    if requested != "auto":
        return model_max_length(tokenizer, config, requested)
    if not 0 < data_args.max_seq_length_coverage <= 1:
        raise UserError("--max_seq_length_coverage must be in (0, 1]")
    if train_dataset is None or not hasattr(train_dataset, "__len__"):
        raise UserError("--max_seq_length auto measures the training data: it needs --do_train and a non-streamed training set")
    measured = train_dataset.map(
        lambda batch: {"pieces": measure(batch)}, batched=True, remove_columns=train_dataset.column_names,
        desc="Measuring training lengths",
    )
    lengths = np.asarray(measured.with_format("numpy")["pieces"])
    chosen = covering_length(lengths, data_args.max_seq_length_coverage, model_max_length(tokenizer, config, None))
    longer = int((lengths > chosen).sum())
    percentiles = {p: int(np.percentile(lengths, p)) for p in (50, 90, 95, 99)}
    logger.info(
        "--max_seq_length auto: %d (covers %.0f%% of %d training examples; pieces min %d, median %d, p90 %d, p95 %d, "
        "p99 %d, max %d). %d examples (%.1f%%) are longer and will be %s.",
        chosen, 100 * data_args.max_seq_length_coverage, len(lengths), lengths.min(), percentiles[50],
        percentiles[90], percentiles[95], percentiles[99], lengths.max(), longer, 100 * longer / len(lengths),
        longer_means,
    )
    return chosen


def model_max_length(tokenizer, config, requested) -> int:
    """--max_seq_length, or the longest input the model takes (at most 512)."""
    positions = [limit for limit in (tokenizer.model_max_length, getattr(config, "max_position_embeddings", None))
                 if limit and limit < 1_000_000]  # tokenizers without a limit say 1e30
    if requested is not None:
        if requested < 4:
            raise UserError(f"--max_seq_length {requested} is too small")
        if positions and requested > min(positions):
            raise UserError(
                f"--max_seq_length {requested} is longer than the model takes ({min(positions)} positions); longer "
                "inputs are windowed (NER) or truncated/chunked (classification) anyway"
            )
        return requested
    return min(positions + [512])
