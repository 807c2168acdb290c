#!/usr/bin/env python
"""Several corpora (--corpora): CoNLL-2003 and the Broad Twitter Corpus (tweets, no MISC), each alone and together,
plainly concatenated or label-aware, over seeds; test F1 of each corpus, and per type.

Each row trains in a process of its own (run alone: two processes on 2 cores slow each other far more than 2x),
skipped when its folder already holds all_results.json, so an interrupted benchmark continues where it stopped.
Every row uses the same recipe: CoNLL-2003's best (3 epochs, lr 2e-4, warmup 0.1, CRF, head lr 2e-3, batch 32).

    python bench/corpora.py --seeds 42,1,2 --runs /tmp/corpora
    python bench/corpora.py --rows conll --reuse "conll=/tmp/distil/ner-teacher-s{seed}"   # same recipe, done
    python bench/corpora.py --rows aware --extra "btc3=btc.weight=3"   # a label-aware row with more --corpora items

Rows:
  conll     CoNLL-2003 alone
  btc       BTC alone
  concat    both, plainly concatenated: BTC counted as annotating MISC too (its O teaches "not MISC")
  aware     both, label-aware: where BTC says O, MISC stays open (the default of --corpora)
  tempered  aware, with --corpus_mixing tempered (BTC repeated towards an equal share)
  --extra "name=items and flags": a label-aware row with more --corpora items (btc.weight=3) or flags after them
"""

import argparse
import json
import os
import shlex
import statistics
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from predict_speed import cpu_line, train_logged  # noqa: E402

RECIPE = ["--per_device_train_batch_size", "32", "--per_device_eval_batch_size", "64", "--num_train_epochs", "3",
          "--learning_rate", "2e-4", "--warmup_steps", "0.1", "--use_crf", "--head_learning_rate", "2e-3",
          "--return_entity_level_metrics"]
TYPES = ("PER", "ORG", "LOC", "MISC")


def row_flags(row: str, data: str, extra: dict) -> list:
    conll, btc = os.path.join(data, "conll2003"), os.path.join(data, "btc")
    both = ["--corpora", f"conll={conll}", f"btc={btc}"]
    rows = {
        "conll": ["--data_dir", conll],
        "btc": ["--data_dir", btc],
        "concat": [*both, "btc.annotates=LOC,MISC,ORG,PER"],
        "aware": both,
        "tempered": [*both, "--corpus_mixing", "tempered"],
    }
    rows.update({name: [*both, *shlex.split(flags)] for name, flags in extra.items()})
    if row not in rows:
        raise SystemExit(f"unknown row {row}: choose from {', '.join(rows)}")
    return rows[row]


def train(row: str, seed: int, args) -> dict:
    """The row's all_results.json for this seed: read from --reuse's folder, or trained into the runs folder."""
    folder = os.path.join(args.runs, f"{row}-s{seed}")
    if row in args.reuse and os.path.isfile(os.path.join(args.reuse[row].format(seed=seed), "all_results.json")):
        folder = args.reuse[row].format(seed=seed)
    results = os.path.join(folder, "all_results.json")
    if not os.path.isfile(results):
        command = [sys.executable, os.path.join(REPO, "run_ner.py"), "--output_dir", folder, "--do_train", "--do_eval",
                   "--do_predict", "--save_strategy", "no", "--report_to", "none", "--seed", str(seed),
                   "--overwrite_output_dir", *RECIPE, *row_flags(row, args.data, args.extra), *shlex.split(args.flags)]
        train_logged(command, folder)
    with open(results, encoding="utf-8") as stream:
        return with_type_scores(json.load(stream), folder)


def score(results: dict, corpus: str, row: str, metric: str = "f1", split: str = "predict") -> 'float | None':
    """A corpus's test (or dev: split "eval") score in a row's results: the whole split where the row trained on
    that corpus alone."""
    if row == corpus:
        key = f"{split}_{metric}"
    elif row in ("conll", "btc"):
        return None
    else:
        key = f"{split}_{corpus}_{metric}"
    return 100 * results[key] if key in results else None


def shown(value: 'float | None') -> str:
    return "-" if value is None else f"{value:.2f}"


def with_type_scores(results: dict, folder: str) -> dict:
    """A run without --return_entity_level_metrics: its per-type test F1 from test_classification_report.txt."""
    path = os.path.join(folder, "test_classification_report.txt")
    if any(key.endswith("_MISC_f1") for key in results) or not os.path.isfile(path):
        return results
    with open(path, encoding="utf-8") as stream:  # seqeval's report: type precision recall f1 support
        found = {parts[0]: float(parts[3]) for parts in map(str.split, stream) if len(parts) == 5}
    return dict(results, **{f"predict_{kind}_f1": value for kind, value in found.items() if kind in TYPES})


def mean_std(values: list) -> str:
    values = [value for value in values if value is not None]
    if not values:
        return "-"
    spread = f" ± {statistics.stdev(values):.2f}" if len(values) > 1 else ""
    return f"{statistics.mean(values):.2f}{spread}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    parser.add_argument("--runs", default="/tmp/corpora")
    parser.add_argument("--seeds", default="42,1,2")
    parser.add_argument("--rows", default="conll,btc,concat,aware,tempered")
    parser.add_argument("--reuse", action="append", default=[],
                        help="row=folder pattern with {seed}: that row's results from a run of the same recipe")
    parser.add_argument("--flags", default="", help="more flags for every row (e.g. --num_train_epochs 1)")
    parser.add_argument("--extra", action="append", default=[],
                        help="name=items: a label-aware row with more --corpora items or flags (btc.weight=3)")
    args = parser.parse_args()
    args.reuse = dict(item.split("=", 1) for item in args.reuse)
    args.extra = dict(item.split("=", 1) for item in args.extra)
    os.makedirs(args.runs, exist_ok=True)
    rows = args.rows.split(",") + [name for name in args.extra if name not in args.rows.split(",")]
    seeds = [int(seed) for seed in args.seeds.split(",")]
    print(f"Machine: {cpu_line()}", flush=True)
    results = {row: [train(row, seed, args) for seed in seeds] for row in rows}
    print(f"\nMachine: {cpu_line()}\n")
    print("| row | seeds | CoNLL-2003 test F1 | BTC test F1 | CoNLL MISC | CoNLL / BTC dev F1 | per seed CoNLL / BTC |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        conll = [score(result, "conll", row) for result in results[row]]
        btc = [score(result, "btc", row) for result in results[row]]
        misc = [score(result, "conll", row, "MISC_f1") for result in results[row]]
        dev = " / ".join(mean_std([score(result, corpus, row, split="eval") for result in results[row]])
                         for corpus in ("conll", "btc"))
        each = ", ".join(f"{shown(c)}/{shown(b)}" for c, b in zip(conll, btc))
        print(f"| {row} | {len(seeds)} | {mean_std(conll)} | {mean_std(btc)} | {mean_std(misc)} | {dev} | {each} |")
    print("\nTest F1 per type, mean over the seeds (CoNLL-2003 / BTC):\n")
    print("| row | " + " | ".join(TYPES) + " |\n| --- |" + " --- |" * len(TYPES))
    for row in rows:
        cells = []
        for kind in TYPES:
            conll = mean_std([score(result, "conll", row, f"{kind}_f1") for result in results[row]])
            btc = mean_std([score(result, "btc", row, f"{kind}_f1") for result in results[row]]) if kind != "MISC" else "-"
            cells.append(f"{conll} / {btc}")
        print(f"| {row} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
