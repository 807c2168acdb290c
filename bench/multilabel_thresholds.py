#!/usr/bin/env python
"""What --tune_thresholds buys a multi-label classifier: test micro F1 with per-label thresholds tuned on dev
against every label at 0.5, over seeds.

The task is real data made multi-label: which entity types (PER, ORG, LOC, MISC) a CoNLL-2003 sentence
contains, from its gold tags (a sentence may have none, one or several). The JSONL files are written into a
temporary folder (the data is not copied into the project). Each seed trains once with --tune_thresholds (dev
and test scored with the tuned thresholds); eval.sh then scores the same folder without thresholds.json (0.5).

    python bench/multilabel_thresholds.py --conll /path/to/conll2003 --seeds 42,1,2 --epochs 1
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from bench.recipes import cpu_name  # noqa: E402
from tunekit.data.readers import TokenReadOptions, read_token_file  # noqa: E402


def write_types_task(conll: str, folder: str) -> dict:
    """train/dev/test.jsonl of {"text", "labels": entity types in the sentence}; returns the sizes."""
    sizes = {}
    for split, name in (("train", "train.txt"), ("dev", "dev.txt"), ("test", "test.txt")):
        rows = list(read_token_file(os.path.join(conll, name), TokenReadOptions()))
        with open(os.path.join(folder, f"{split}.jsonl"), "w", encoding="utf-8") as stream:
            for row in rows:
                types = sorted({tag[2:] for tag in row["tags"] if tag != "O"})
                stream.write(json.dumps({"text": " ".join(row["tokens"]), "labels": types}) + "\n")
        sizes[split] = len(rows)
    return sizes


def run(command: list) -> None:
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr[-3000:]}")


def results(folder: str) -> dict:
    with open(os.path.join(folder, "all_results.json"), encoding="utf-8") as stream:
        return json.load(stream)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conll", required=True, help="a folder with CoNLL-2003 train.txt, dev.txt and test.txt")
    parser.add_argument("--seeds", default="42,1,2")
    parser.add_argument("--epochs", default="1")
    parser.add_argument("--output", default=None, help="keep the trained folders here (default: a temporary folder)")
    args = parser.parse_args()
    print(cpu_name())
    work = args.output or tempfile.mkdtemp(prefix="multilabel_")
    data = os.path.join(work, "data")
    os.makedirs(data, exist_ok=True)
    print("sentences:", write_types_task(args.conll, data))
    rows = []
    for seed in args.seeds.split(","):
        folder = os.path.join(work, f"seed-{seed}")
        run([sys.executable, "run_glue.py", "--train_file", f"{data}/train.jsonl", "--validation_file",
             f"{data}/dev.jsonl", "--test_file", f"{data}/test.jsonl", "--output_dir", folder, "--overwrite_output_dir",
             "--do_train", "--do_eval", "--do_predict", "--num_train_epochs", args.epochs, "--seed", seed,
             "--learning_rate", "5e-5", "--per_device_train_batch_size", "32", "--max_seq_length", "128",
             "--save_strategy", "no", "--report_to", "none", "--tune_thresholds", "--disable_tqdm", "true"])
        tuned = results(folder)
        with open(os.path.join(folder, "thresholds.json"), encoding="utf-8") as stream:
            thresholds = json.load(stream)["thresholds"]
        shutil.move(os.path.join(folder, "thresholds.json"), os.path.join(work, f"thresholds-{seed}.json"))
        run(["sh", "scripts/eval.sh", folder])
        plain = results(folder)
        rows.append((seed, tuned["eval_f1_untuned"], tuned["eval_f1"], plain["predict_f1"], tuned["predict_f1"],
                     tuned["predict_f1_ci_low"], tuned["predict_f1_ci_high"], thresholds))
    print("| seed | dev F1 at 0.5 | dev F1 tuned | test F1 at 0.5 | test F1 tuned (95% interval) | thresholds |")
    print("| --- | --- | --- | --- | --- | --- |")
    for seed, dev_plain, dev_tuned, test_plain, test_tuned, low, high, thresholds in rows:
        shown = ", ".join(f"{name} {value:.2f}" for name, value in thresholds.items())
        print(f"| {seed} | {100 * dev_plain:.2f} | {100 * dev_tuned:.2f} | {100 * test_plain:.2f} | "
              f"{100 * test_tuned:.2f} ({100 * low:.2f}–{100 * high:.2f}) | {shown} |")
    gains = [row[4] - row[3] for row in rows]
    print(f"test F1 gain from tuning: mean {100 * sum(gains) / len(gains):+.2f} points over {len(rows)} seeds "
          f"({', '.join(f'{100 * gain:+.2f}' for gain in gains)})")


if __name__ == "__main__":
    main()
