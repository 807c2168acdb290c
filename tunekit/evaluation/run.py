"""Scoring the evaluated splits after training: predict each in length order, score it with its task scorer, and
hand what the scorer predicted to the task's writers (main process only)."""

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

from transformers import EvalPrediction

from tunekit.evaluation.intervals import bootstrap_intervals, interval_metrics
from tunekit.training.speed.length_order import in_input_order, in_order_scorer, sorted_by_length
from tunekit.files import save_results
from tunekit.splits import part_prefix
from tunekit.evaluation.scored import Scored, Scorer

logger = logging.getLogger("tunekit")


@dataclass(frozen=True)
class SplitEvaluation:
    """One split a task scores after training: its metric prefix (eval, eval_mm, predict), a scorer made from what
    earlier splits decided (the multi-label thresholds dev tuned, or None), and the writer of its files."""

    split: str
    prefix: str
    scorer: Callable[[Any], Scorer]
    write: Callable[[str, Scored], None]


def closing_figures(scorer: Scorer, scored: Scored, prefix: str, resamples: int, seed: int) -> tuple[dict, Scored]:
    """The figures of a final evaluation beyond the scores: 95% bootstrap intervals (`resamples` resamples of the
    split's sentences or texts, seeded) and, where the scorer has one, its error analysis's figures."""
    metrics = interval_metrics(prefix, bootstrap_intervals(scorer.statistics(scored), resamples, seed))
    analysis = scorer.error_analysis(scored)
    if analysis is not None:
        scored = scored._replace(analysis=analysis, analysis_line=scorer.analysis_line(analysis))
        metrics.update({f"{prefix}_{name}": value for name, value in scorer.analysis_metrics(analysis).items()})
    return metrics, scored


def corpus_parts(scorer: Scorer, scored: Scored, prefix: str, resamples: int, seed: int) -> dict:
    """With several corpora (--corpora), each corpus's part of a scored split, scored on its own types with its
    intervals and error analysis: {prefix[corpus]: (its metrics, its Scored)}."""
    if not scored.metrics:
        return {}
    parts = {}
    for name, part_scorer, part_scored in scorer.parts(scored):
        part = part_prefix(prefix, name)
        figures, part_scored = closing_figures(part_scorer, part_scored, part, resamples, seed)
        metrics = {f"{part}_{key}": value for key, value in part_scored.metrics.items()}
        parts[part] = (dict(metrics, **figures, **{f"{part}_samples": len(part_scored.gold)}), part_scored)
    return parts


def run_evaluations(trainer, evaluations: list[SplitEvaluation], encoded: dict, samples: dict, sort_by_length: bool,
                    resamples: int = 1000) -> tuple[dict, dict]:
    """Predict and score each split (encoded: split -> model inputs; samples: split -> number of examples), with
    intervals and error analysis where it has gold, and save its results and files; returns (prefix -> metrics,
    prefix -> Scored)."""
    summary, scored_splits, decided = {}, {}, None
    for evaluation in evaluations:
        dataset, order = sorted_by_length(encoded[evaluation.split], sort_by_length)
        scored: list[Scored] = []  # the scorer's result, kept here for the writers
        scorer = evaluation.scorer(decided)  # dev's decisions (tuned thresholds) reach the splits after it

        def compute_metrics(prediction, scorer=scorer, scored=scored):
            scored.append(scorer.score(prediction))
            return scored[-1].metrics

        trainer.compute_metrics = in_order_scorer(compute_metrics, order)
        output = trainer.predict(dataset, metric_key_prefix=evaluation.prefix)
        if not scored:  # no labels to score against (a test file without gold): predictions only
            predictions = in_input_order(output.predictions, order)
            no_labels: Any = None
            scored.append(scorer.score(EvalPrediction(predictions=predictions, label_ids=no_labels)))
        metrics = dict(output.metrics, **{f"{evaluation.prefix}_samples": samples[evaluation.split]})
        if scored[-1].metrics:
            started = time.perf_counter()
            figures, scored[-1] = closing_figures(scorer, scored[-1], evaluation.prefix, resamples,
                                                  trainer.args.seed)
            metrics.update(figures)
            logger.info("%s: intervals (%d resamples)%s in %.2f s", evaluation.prefix, resamples,
                        " and error analysis" if scored[-1].analysis is not None else "", time.perf_counter() - started)
        summary[evaluation.prefix] = metrics
        scored_splits[evaluation.prefix] = scored[-1]
        parts = corpus_parts(scorer, scored[-1], evaluation.prefix, resamples, trainer.args.seed)
        for part_prefix, (part_metrics, part_scored) in parts.items():
            summary[part_prefix], scored_splits[part_prefix] = part_metrics, part_scored
        decided = scored[-1].decided if scored[-1].decided is not None else decided
        if trainer.is_world_process_zero():
            save_results(trainer.args.output_dir, evaluation.prefix, metrics)
            evaluation.write(trainer.args.output_dir, scored[-1])
            for part_prefix, (part_metrics, _) in parts.items():  # eval[btc]_results.json, all_results.json
                save_results(trainer.args.output_dir, part_prefix, part_metrics)
    return summary, scored_splits
