#!/usr/bin/env python
"""Distillation: the teacher against students cut to 3 and 2 of its layers that learn from it, and the same
students trained on the gold labels only (the ablation), over seeds; then prediction speed of each.

Each row trains in a process of its own (run alone: two processes on 2 cores slow each other far more than 2x),
skipped when its folder already holds all_results.json, so an interrupted benchmark continues where it stopped.

    python bench/distillation.py --task ner --seeds 42,1,2 --runs /tmp/distil            # CoNLL-2003
    python bench/distillation.py --task mrpc --seeds 42,1,2 --runs /tmp/distil
    python bench/distillation.py --task ner --rows teacher,distil3 --extra "text=--distill_text tweets.txt"
    python bench/distillation.py --task ner --speed --seeds 42 --runs /tmp/distil         # prediction speed

Rows (each with the teacher's recipe; CoNLL-2003: its best, 3 epochs with a CRF; MRPC: 3 epochs at lr 1e-4):
  teacher   the offline MiniLM, all 6 layers
  distilN   the teacher cut to its first N layers, learning from the teacher's soft labels
  goldN     the offline MiniLM cut to its first N layers, trained on the gold labels only: no teacher at all
  --extra "name=flags" adds a distilled 3-layer row with more flags (e.g. a temperature, a layer choice); a name
            starting with "gold" adds a gold-only 3-layer row instead
"""

import argparse
import json
import os
import shlex
import statistics
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from predict_speed import cpu_line, train_logged, make_int8, run_prediction, train_if_missing  # noqa: E402

BATCHES = ["--per_device_train_batch_size", "32", "--per_device_eval_batch_size", "64"]  # as train.sh
RECIPES = {
    "ner": ("run_ner.py", [*BATCHES, "--num_train_epochs", "3", "--learning_rate", "2e-4", "--warmup_steps", "0.1",
                           "--use_crf", "--head_learning_rate", "2e-3"], "f1"),
    "mrpc": ("run_glue.py", [*BATCHES, "--task_name", "mrpc", "--num_train_epochs", "3", "--learning_rate", "1e-4"], "f1"),
}


def data_flags(task: str, data: str) -> list:
    return ["--data_dir", os.path.join(data, "conll2003")] if task == "ner" else ["--data_dir", os.path.join(data, "glue", "MRPC")]


def default_model() -> str:
    from tunekit.modeling.loading import default_model_path

    return default_model_path()


def row_flags(row: str, seed: int, runs: str, task: str, extra: dict) -> list:
    teacher = os.path.join(runs, f"{task}-teacher-s{seed}")
    if row == "teacher":
        return []
    if row in extra and row.startswith("gold"):
        return ["--model_name_or_path", default_model(), "--student_layers", "3", *shlex.split(extra[row])]
    if row in extra:
        return ["--distill_from", teacher, "--student_layers", "3", *shlex.split(extra[row])]
    layers = row[-1]
    if row.startswith("distil"):
        return ["--distill_from", teacher, "--student_layers", layers]
    if row.startswith("gold"):
        return ["--model_name_or_path", default_model(), "--student_layers", layers]
    raise SystemExit(f"unknown row {row}")


def train(task: str, row: str, seed: int, args, extra: dict) -> dict:
    folder = os.path.join(args.runs, f"{task}-{row}-s{seed}")
    results = os.path.join(folder, "all_results.json")
    if not os.path.isfile(results):
        script, recipe, _ = RECIPES[task]
        scored = ["--do_eval", "--do_predict"] if task == "ner" else ["--do_eval"]  # GLUE's test has no labels
        command = [sys.executable, os.path.join(REPO, script), "--output_dir", folder, "--do_train", *scored,
                   "--save_strategy", "no", "--report_to", "none", "--seed", str(seed),
                   "--overwrite_output_dir", *data_flags(task, args.data), *recipe,
                   *row_flags(row, seed, args.runs, task, extra)]
        train_logged(command, folder)
    with open(results, encoding="utf-8") as stream:
        return json.load(stream)


def mean_std(values: list) -> str:
    if not values:
        return "-"
    spread = f" ± {statistics.stdev(values):.2f}" if len(values) > 1 else ""
    return f"{statistics.mean(values):.2f}{spread}"


def score_table(task: str, rows: list, seeds: list, args, extra: dict) -> None:
    metric = RECIPES[task][2]
    results = {row: [train(task, row, seed, args, extra) for seed in seeds] for row in rows}
    print(f"\nMachine: {cpu_line()}\n")
    print(f"| row | seeds | dev {metric} | test {metric} | training s (seed {seeds[0]}) | per seed dev / test |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        dev = [100 * result[f"eval_{metric}"] for result in results[row]]
        test = [100 * result[f"predict_{metric}"] for result in results[row] if f"predict_{metric}" in result]
        each = ", ".join(f"{d:.2f}/{t:.2f}" for d, t in zip(dev, test)) if test else ", ".join(f"{d:.2f}" for d in dev)
        print(f"| {row} | {len(dev)} | {mean_std(dev)} | {mean_std(test)} | {results[row][0]['train_runtime']:.0f} | {each} |")
    if task == "ner":
        per_type(rows, seeds, args.runs, task)


def per_type(rows: list, seeds: list, runs: str, task: str) -> None:
    """Test F1 per entity type, mean over the seeds (from each folder's test_classification_report.txt)."""
    types = ("PER", "ORG", "LOC", "MISC")
    print("\n| row | " + " | ".join(types) + " |\n| --- |" + " --- |" * len(types))
    for row in rows:
        scores = {kind: [] for kind in types}
        for seed in seeds:
            path = os.path.join(runs, f"{task}-{row}-s{seed}", "test_classification_report.txt")
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as stream:  # seqeval's report: type precision recall f1 support
                    found = {parts[0]: float(parts[3]) for parts in map(str.split, stream) if len(parts) == 5}
                for kind in types:
                    if kind in found:
                        scores[kind].append(100 * found[kind])
        print(f"| {row} | " + " | ".join(mean_std(scores[kind]) for kind in types) + " |")


def speed_table(task: str, rows: list, seed: int, args) -> None:
    """Test prediction of each row's seed folder in PyTorch fp32, ONNX Runtime and int8, and the official scripts'
    fastest configuration (bench/predict_speed.py) on a 6-layer softmax tagger, all in this run."""
    from predict_speed import OFFICIAL, OFFICIAL_BEHAVIOUR

    speed_task = "ner" if task == "ner" else "glue"
    official_folder = os.path.join(args.runs, f"{task}-official")
    train_if_missing(speed_task, args.data, official_folder)
    print(f"\nMachine: {cpu_line()}\n", flush=True)
    from tunekit.config.hardware import native_bf16

    # Without native bf16 the official --bf16 rows run emulated bf16, several times slower than fp32 (predict_speed.py
    # measures them): never the fastest there, so they are left out.
    configs = {name: flags for name, flags in OFFICIAL.items() if native_bf16() or "--bf16" not in flags}
    official = {name: run_prediction(speed_task, args.data, official_folder, OFFICIAL_BEHAVIOUR + flags)
                for name, flags in configs.items()}
    fastest = max(official, key=lambda name: official[name]["samples_per_second"])
    base = official[fastest]["samples_per_second"]
    print(f"official fastest: {fastest}, {base:.1f} samples/s (6-layer softmax tagger, {official_folder})\n")
    print("| row | backend | samples/s | vs teacher, same backend | vs official fastest | F1 |")
    print("| --- | --- | --- | --- | --- | --- |")
    teacher_speed = {}
    for row in rows:
        folder = os.path.join(args.runs, f"{task}-{row}-s{seed}")
        make_int8(speed_task, args.data, folder)
        for backend, flags in (("torch fp32", ["--precision", "fp32"]), ("onnxruntime", ["--backend", "onnxruntime"]),
                               ("int8", ["--quantize", "int8"])):
            measured = run_prediction(speed_task, args.data, folder, flags)
            speed = measured["samples_per_second"]
            teacher_speed.setdefault(backend, speed)
            print(f"| {row} | {backend} | {speed:.1f} | {speed / teacher_speed[backend]:.2f}x | {speed / base:.2f}x | "
                  f"{100 * measured['score']:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="ner", choices=sorted(RECIPES))
    parser.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    parser.add_argument("--runs", default="/tmp/distil")
    parser.add_argument("--seeds", default="42,1,2")
    parser.add_argument("--rows", default="teacher,distil3,gold3,distil2,gold2")
    parser.add_argument("--extra", action="append", default=[], help="name=flags: a distilled 3-layer row with more flags")
    parser.add_argument("--speed", action="store_true", help="time prediction of the rows (first seed) instead")
    args = parser.parse_args()
    os.makedirs(args.runs, exist_ok=True)
    extra = dict(item.split("=", 1) for item in args.extra)
    rows = args.rows.split(",") + [name for name in extra if name not in args.rows.split(",")]
    seeds = [int(seed) for seed in args.seeds.split(",")]
    print(f"Machine: {cpu_line()}", flush=True)
    if args.speed:
        speed_table(args.task, rows, seeds[0], args)
    else:
        score_table(args.task, rows, seeds, args, extra)


if __name__ == "__main__":
    main()
