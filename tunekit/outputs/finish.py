"""The end of a run: training curves, the model card, ONNX export and the closing table of scores."""

import logging
import os
import time

from tunekit.outputs.model_card import CardText, with_interval, write_model_card
from tunekit.outputs.plots import training_curves
from tunekit.outputs.report_page import SplitSections, write_report
from tunekit.splits import CLOSING, shown_metrics, short_name
from tunekit.folder import OutputFolder, saved_run_facts

logger = logging.getLogger("tunekit")
SUMMARY_METRICS = shown_metrics(CLOSING)


def summary_table(train_metrics, summary, scored: dict) -> str:
    """A short table of the run's main numbers, one row per split (scores with their 95% intervals), each followed
    by its scorer's line of error analysis where it has one (scored: prefix -> Scored)."""
    rows = []
    if train_metrics:
        speed = train_metrics.get("train_samples_per_second")
        rows.append(("train", f"loss {train_metrics.get('train_loss', float('nan')):.4f}"
                     + (f", {speed:.1f} samples/s" if speed else "")
                     + f", {train_metrics.get('train_runtime', 0):.0f}s"))
    for prefix, metrics in summary.items():
        shown = [f"{name} {with_interval(metrics, f'{prefix}_{name}')}"
                 for name in SUMMARY_METRICS if f"{prefix}_{name}" in metrics]
        rows.append((short_name(prefix), ", ".join(shown)))
        line = scored[prefix].analysis_line if prefix in scored else None
        if line:
            rows.append(("", line))
    width = max((len(name) for name, _ in rows), default=5)
    return "\n".join(f"  {name:<{width}}  {values}" for name, values in rows)


def base_model(model_args, output_dir: str) -> 'str | None':
    """The model training started from: the saved one when this run evaluates a trained folder."""
    name = model_args.model_name_or_path
    if name and os.path.abspath(name) == os.path.abspath(output_dir):
        return saved_run_facts(output_dir).get("base_model")
    return name


def finish_run(trainer, run_args, model_args, data_args, card: CardText, sections: SplitSections, script: str,
               labels, train_metrics, summary, curve_metric, scored: dict) -> None:
    """Charts, model card, report.html, ONNX export and the closing table; files on the main process only.
    card, sections: what the task's card and report.html say; script: what ran it; scored: prefix -> Scored of
    the evaluated splits."""
    training_args = trainer.args
    output_dir = training_args.output_dir
    if trainer.is_world_process_zero():
        name = training_args.metric_for_best_model or curve_metric
        metric = name if name.startswith("eval_") else f"eval_{name}"
        if train_metrics:
            training_curves(trainer.state.log_history, metric, OutputFolder(output_dir).training_curves,
                            OutputFolder(output_dir).name)
        if training_args.do_train or os.path.exists(OutputFolder(output_dir).model_config):
            write_model_card(output_dir, card, script, base_model(model_args, output_dir), data_args, training_args,
                             labels)
        started = time.perf_counter()
        facts = {"task": script, "base model": base_model(model_args, output_dir),
                 "labels": len(labels) if labels else None, "written": time.strftime("%Y-%m-%d %H:%M")}
        write_report(output_dir, facts, train_metrics, summary, scored, sections, getattr(trainer.model.config, "id2label", None))
        logger.info("report.html written in %.2f s", time.perf_counter() - started)
        if run_args.export_onnx:
            from tunekit.inference.onnx_graphs import graphs_folder
            from tunekit.inference.onnx_export import export_onnx

            graphs_folder(output_dir)  # graphs of earlier weights go; the export is recorded as made from these
            path = export_onnx(trainer.model, trainer.processing_class, output_dir)
            logger.info("ONNX model written to %s (same predictions as PyTorch on a sample)", path)
        if not run_args.quiet:
            print(f"\nResults ({output_dir}):\n{summary_table(train_metrics, summary, scored)}")
