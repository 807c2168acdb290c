"""--seeds 42,1,2: the same run once per seed, each in <output_dir>/seed-N, then every metric as mean and standard
deviation over the seeds (seeds_summary.json and seeds_summary.md) and a report.html that links the seeds' own.

Each seed runs as a process of its own from the run's settled arguments (as run_config.yaml holds them) with its
seed and folder, as `run_ner.py <that file> --seed N --output_dir <output_dir>/seed-N` would, so nothing of one
seed's model, memory or random state reaches the next. Running the command again
continues: a finished seed folder is evaluated again instead of trained, an interrupted one resumes from its last
checkpoint (--overwrite_output_dir starts every seed afresh).
"""

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
from typing import TYPE_CHECKING

from tunekit.folder import OutputFolder, RUN_CONFIG_FILE
from tunekit import tasks
from tunekit.config.resolve import Settings, resolved_config_text
from tunekit.errors import UserError
from tunekit.files import atomic_write, write_json
from tunekit.splits import BY_PREFIX, SCORED_PREFIXES, SEEDS, shown_metrics, split_and_part
from tunekit.outputs.report_page import seeds_report_html, write_page

if TYPE_CHECKING:
    from tunekit.tasks.base import Task

logger = logging.getLogger("tunekit")
SHOWN = shown_metrics(SEEDS)


def seed_command(task_name: str, config_file: str, seed: int, folder: str) -> list:
    """The command that runs one seed: the run's settled arguments, with this seed and its folder."""
    program = "import sys; from tunekit.programs.train import run_task; sys.exit(run_task(sys.argv[1], sys.argv[2:]))"
    return [sys.executable, "-c", program, task_name, config_file, "--seed", str(seed), "--output_dir", folder]


def metric_summary(results: list[dict]) -> dict:
    """metric -> {mean, std, min, max, values} over the seeds, for every number all of them report."""
    keys = [key for key, value in results[0].items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)
            and all(isinstance(r.get(key), (int, float)) for r in results)]
    summary = {}
    for key in sorted(keys):
        values = [float(r[key]) for r in results]
        summary[key] = {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
                        "min": min(values), "max": max(values), "values": values}
    return summary


def shown_keys(summary: dict) -> list:
    """The scores a reader compares, split by split (each followed by its corpora's parts, with --corpora), then
    training time."""
    keys = []
    for prefix in SCORED_PREFIXES:
        parts = [key[:-len("_samples")] for key in summary if key.endswith("_samples")]
        parts = [part for part in parts if part not in BY_PREFIX and (split_and_part(part) or (None,))[0] == BY_PREFIX[prefix]]
        for shown in [prefix, *parts]:
            keys += [f"{shown}_{name}" for name in SHOWN if f"{shown}_{name}" in summary]
    return keys + [key for key in ("train_runtime", "train_loss") if key in summary]


def summary_rows(seeds: list, summary: dict, every_metric: bool = True) -> tuple[list, list]:
    """The header and rows of the table: each metric's mean ± std and its value per seed."""
    keys = list(summary) if every_metric else shown_keys(summary)
    header = ["metric", "mean ± std"] + [f"seed {seed}" for seed in seeds]
    rows = []
    for key in keys:
        values = summary[key]
        digits = 4 if abs(values["mean"]) < 10 else 1
        rows.append([key, f"{values['mean']:.{digits}f} ± {values['std']:.{digits}f}"]
                    + [f"{v:.{digits}f}" for v in values["values"]])
    return header, rows


def summary_markdown(seeds: list, summary: dict, every_metric: bool = True) -> str:
    """The table in Markdown."""
    header, rows = summary_rows(seeds, summary, every_metric)
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def run_seeds(task: "Task", settings: Settings) -> int:
    """Run every seed into its folder, then write and print the summary; a failing seed stops the rest."""
    seeds = [int(seed) for seed in (settings.run.seeds or "").split(",")]
    output_dir, quiet = settings.output_dir, settings.run.quiet
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise UserError("--seeds starts one run per seed itself: run it without torchrun / accelerate launch "
                        "(or launch each seed with --seed N)")
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    output = OutputFolder(output_dir)
    folders = [output.seed(seed) for seed in seeds]
    with tempfile.TemporaryDirectory() as config_dir:
        config_file = os.path.join(config_dir, RUN_CONFIG_FILE)  # one replay mechanism: the settled arguments
        atomic_write(config_file, resolved_config_text(settings.with_changes(run={"seeds": None}), tasks.script(task.name)))
        for number, (seed, folder) in enumerate(zip(seeds, folders), start=1):
            logger.info("--seeds: seed %d (%d of %d) into %s", seed, number, len(seeds), folder)
            code = subprocess.run(seed_command(task.name, config_file, seed, folder), env=env).returncode
            if code != 0:
                logger.error("--seeds: seed %d stopped with exit code %d; the seeds before it are kept", seed, code)
                return code
    results = []
    for folder in folders:
        path = OutputFolder(folder).all_results
        if not os.path.isfile(path):
            raise UserError(f"{path}: the seed's run left no results (was it given --do_train / --do_eval?)")
        with open(path, encoding="utf-8") as stream:
            results.append(json.load(stream))
    summary = metric_summary(results)
    write_json(output.seeds_summary("json"),
               {"seeds": seeds, "folders": folders, "metrics": summary})
    atomic_write(output.seeds_summary("md"), summary_markdown(seeds, summary) + "\n")
    main_rows = summary_rows(seeds, summary, every_metric=False)
    write_page(output_dir, seeds_report_html(output_dir, seeds, folders, main_rows, summary_rows(seeds, summary)))
    if not quiet:
        print(f"\nOver {len(seeds)} seeds ({output.seeds_summary('md')} has every metric):\n"
              + summary_markdown(seeds, summary, every_metric=False), flush=True)
    return 0
