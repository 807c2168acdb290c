"""--early_stopping_patience: the callback that stops when the metric stalls (the schedule it needs is settled
by config/resolve.settle_schedule)."""

import logging

from transformers import EarlyStoppingCallback

logger = logging.getLogger("tunekit")


def early_stopping_callbacks(run_args, training_args) -> list:
    """The callbacks to add: none without --early_stopping_patience."""
    if run_args.early_stopping_patience is None or not training_args.do_train:
        return []
    strategy = training_args.eval_strategy
    logger.info(
        "Early stopping: patience %d evaluations (%s), metric %s, threshold %g; the best checkpoint becomes the model",
        run_args.early_stopping_patience, strategy.value if hasattr(strategy, "value") else strategy,
        training_args.metric_for_best_model, run_args.early_stopping_threshold,
    )
    return [EarlyStoppingCallback(run_args.early_stopping_patience, run_args.early_stopping_threshold)]
