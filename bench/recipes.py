#!/usr/bin/env python
"""Compare recipes over seeds: train.sh once per (recipe, seed), each run alone, then one table of mean ± std.

Every recipe is `name=flags`, added to the common flags; the table gives each metric's mean ± std over the seeds
and the training time (seconds per epoch too) of each seed. Print the CPU with it (compare rows of one run only).

    python bench/recipes.py --task glue --common "--task_name mrpc --data_dir ../shared/data/glue/MRPC" \\
        --recipe "cls=--sentence_pooling cls" --recipe "mean=--sentence_pooling mean" --seeds 1,2,42 \\
        --metrics eval_f1,eval_accuracy --runs /tmp/mrpc
"""

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_name() -> str:
    """The CPU model and whether it has native bf16 (lscpu), as every benchmark prints it."""
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return platform.processor() or "unknown CPU"
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Model name")), "?")
    return f"{model}, {os.cpu_count()} cores, {'avx512_bf16' if 'avx512_bf16' in text else 'no native bf16'}"


def run(task: str, output: str, flags: list) -> dict:
    """One training through train.sh; its all_results.json with the wall time added."""
    command = ["sh", os.path.join(REPO, "scripts", "train.sh"), output, task, *flags, "--overwrite_output_dir"]
    started = time.time()
    with open(output + ".log", "w") as log:
        finished = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT)
    if finished.returncode != 0:
        sys.exit(f"{' '.join(map(shlex.quote, command))} failed: see {output}.log")
    with open(os.path.join(output, "all_results.json")) as stream:
        results = json.load(stream)
    results["wall"] = time.time() - started
    return results


def summary(values: list) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="ner", choices=["ner", "glue"])
    parser.add_argument("--common", default="", help="flags every run gets")
    parser.add_argument("--recipe", action="append", required=True, help="name=flags (repeat)")
    parser.add_argument("--seeds", default="42")
    parser.add_argument("--metrics", default="eval_f1,predict_f1", help="keys of all_results.json, shown x100")
    parser.add_argument("--runs", required=True, help="folder for the run folders and logs")
    args = parser.parse_args()

    os.makedirs(args.runs, exist_ok=True)
    metrics = args.metrics.split(",")
    print(f"CPU: {cpu_name()}")
    print(f"common: {args.common}", flush=True)
    rows = []
    for recipe in args.recipe:
        name, _, flags = recipe.partition("=")
        per_seed = []
        for seed in args.seeds.split(","):
            output = os.path.join(args.runs, f"{name}-seed{seed}")
            results = run(args.task, output, shlex.split(args.common) + shlex.split(flags) + ["--seed", seed])
            per_seed.append(results)
            epochs = results.get("epoch") or 1
            print(f"  {name} seed {seed}: " + ", ".join(f"{m} {100 * results.get(m, float('nan')):.2f}" for m in metrics)
                  + f", training {results.get('train_runtime', 0):.0f} s ({results.get('train_runtime', 0) / epochs:.0f} s "
                  f"per epoch)", flush=True)
        rows.append((name, flags, per_seed))
    print()
    print("| recipe | flags | " + " | ".join(metrics) + " | training (s per epoch) |")
    print("| --- | --- | " + " | ".join("---" for _ in metrics) + " | --- |")
    for name, flags, per_seed in rows:
        scores = [summary([100 * results[m] for results in per_seed if m in results]) for m in metrics]
        times = ", ".join(f"{results['train_runtime']:.0f} ({results['train_runtime'] / (results.get('epoch') or 1):.0f})"
                          for results in per_seed)
        print(f"| {name} | `{flags}` | " + " | ".join(scores) + f" | {times} |")


if __name__ == "__main__":
    main()
