"""--early_stopping_patience: evaluate and save on the same schedule, stop when the metric stalls, keep the best."""

import logging

from transformers import EarlyStoppingCallback
from transformers.trainer_utils import IntervalStrategy

from .errors import UserError

logger = logging.getLogger("tunekit")


def early_stopping_callbacks(run_args, training_args, main_metric, has_validation):
    """The callbacks to add (none without --early_stopping_patience); sets the evaluation/saving schedule,
    load_best_model_at_end and the metric on training_args where the user left them open."""
    if run_args.early_stopping_patience is None or not training_args.do_train:
        return []
    if not has_validation:
        raise UserError("--early_stopping_patience needs validation data (--validation_file or a dev file in --data_dir)")
    args = training_args
    if args.eval_strategy == IntervalStrategy.NO:
        args.eval_strategy = args.save_strategy if args.save_strategy in (IntervalStrategy.STEPS, IntervalStrategy.EPOCH) else IntervalStrategy.EPOCH
        if args.eval_strategy == IntervalStrategy.STEPS:
            args.eval_steps = args.save_steps
    if args.save_strategy == IntervalStrategy.NO:
        args.save_strategy = args.eval_strategy
        args.save_steps = args.eval_steps or args.save_steps
    if args.save_strategy != args.eval_strategy:
        raise UserError(
            f"--early_stopping_patience keeps the best checkpoint, so --save_strategy ({args.save_strategy}) must "
            f"equal --eval_strategy ({args.eval_strategy})"
        )
    if args.eval_strategy == IntervalStrategy.STEPS and args.save_steps % (args.eval_steps or args.save_steps):
        raise UserError(f"--save_steps {args.save_steps} must be a multiple of --eval_steps {args.eval_steps}")
    args.do_eval = True
    args.load_best_model_at_end = True
    if args.metric_for_best_model is None:
        args.metric_for_best_model = main_metric
    if args.greater_is_better is None:
        args.greater_is_better = not args.metric_for_best_model.endswith("loss")
    logger.info(
        "Early stopping: patience %d evaluations (%s), metric %s, threshold %g; the best checkpoint becomes the model",
        run_args.early_stopping_patience, args.eval_strategy.value if hasattr(args.eval_strategy, "value") else args.eval_strategy,
        args.metric_for_best_model, run_args.early_stopping_threshold,
    )
    return [EarlyStoppingCallback(run_args.early_stopping_patience, run_args.early_stopping_threshold)]
