#!/usr/bin/env python
"""Prediction speed on CoNLL-2003 test and MRPC (its 3,668 training pairs, as bench/speed.py): the official
scripts' fastest configuration on this machine against ours in PyTorch, with ONNX Runtime (exact fp32) and int8.

Each configuration predicts with `run_ner.py` / `run_glue.py --do_predict` on the same trained folder in a
process of its own (run alone: two processes on the same cores slow each other), and the table gives samples/s,
the wall time of the process, its peak RSS, the score, and how many test words (NER) or texts differ from PyTorch
in fp32. The folders are trained first when missing (CoNLL-2003: 1 epoch; MRPC: 3 epochs at lr 1e-4).

    python bench/predict_speed.py --data ../shared/data --models /tmp/predict-bench
    python bench/predict_speed.py --tasks ner --skip_official      # ours only

Configurations:
  official-*  the official scripts' prediction: input order, batches padded to their longest, eval batch 8 (their
              default) or 64, fp32 or --bf16 (emulated, slow, without native bf16); the fastest is the baseline
  torch-fp32  ours in PyTorch, fp32 (the reference the differences are counted against)
  torch       ours in PyTorch, default (length order; bf16 autocast where the CPU has native bf16)
  onnxruntime ours, the exact fp32 graph in ONNX Runtime (--backend onnxruntime)
  int8        ours, the checked int8 graph (--quantize int8; made and checked on dev before timing)
A last section times packed prediction rows (several sentences per row, each attending to itself) against
length-sorted batches on the same model, forward passes only.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from tunekit.config.hardware import cpu_model  # noqa: E402

OFFICIAL = {
    "official-fp32-b8": ["--precision", "fp32", "--per_device_eval_batch_size", "8"],
    "official-fp32-b64": ["--precision", "fp32", "--per_device_eval_batch_size", "64"],
    "official-bf16-b8": ["--bf16", "--per_device_eval_batch_size", "8"],
    "official-bf16-b64": ["--bf16", "--per_device_eval_batch_size", "64"],
}
OFFICIAL_BEHAVIOUR = ["--no_length_bucketing"]  # input-order evaluation, as Trainer does
OURS = {
    "torch-fp32": ["--precision", "fp32"],
    "torch": [],
    "onnxruntime": ["--backend", "onnxruntime"],
    "int8": ["--quantize", "int8"],
}


def train_logged(command: list, folder: str) -> None:
    """Run one benchmark row's training command in a process of its own, its output in <folder>.log."""
    print(f"training {folder} ...", flush=True)
    started = time.time()
    with open(folder + ".log", "w") as log:
        if subprocess.run(command, stdout=log, stderr=subprocess.STDOUT).returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed: see {folder}.log")
    print(f"  done in {time.time() - started:.0f} s", flush=True)


def cpu_line() -> str:
    flags = open("/proc/cpuinfo").read().split("flags", 1)[-1].split("\n", 1)[0].split()
    shown = [flag for flag in ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8") if flag in flags]
    return f"{cpu_model()}, {os.cpu_count()} cores, {' '.join(shown)}"


def task_data(task: str, data: str) -> tuple:
    """(script, data flags, predictions file) of a task."""
    if task == "ner":
        return "run_ner.py", ["--data_dir", os.path.join(data, "conll2003")], "predictions.txt"
    folder = os.path.join(data, "glue", "MRPC")
    return "run_glue.py", ["--task_name", "mrpc", "--data_dir", folder, "--test_file",
                           os.path.join(folder, "train.tsv")], "predict_results_mrpc.txt"


def train_if_missing(task: str, data: str, folder: str) -> None:
    if os.path.isfile(os.path.join(folder, "model.safetensors")):
        return
    script, flags, _ = task_data(task, data)
    extra = ["--num_train_epochs", "1"] if task == "ner" else ["--num_train_epochs", "3", "--learning_rate", "1e-4"]
    print(f"training {folder} ...", flush=True)
    subprocess.run([sys.executable, os.path.join(REPO, script), "--output_dir", folder, "--do_train", "--do_eval",
                    "--per_device_train_batch_size", "32", "--save_strategy", "no", "--report_to", "none", "--quiet",
                    *flags, *extra], check=True)


def run_prediction(task: str, data: str, folder: str, flags: list) -> dict:
    """Predict the test split in a process of its own: samples/s, wall time, peak RSS, score, predictions."""
    script, data_flags, predictions = task_data(task, data)
    output = tempfile.mkdtemp(prefix="predict-bench-")
    try:
        command = [sys.executable, os.path.join(REPO, script), "--model_name_or_path", folder, "--output_dir", output,
                   "--do_predict", "--report_to", "none", "--quiet", "--per_device_eval_batch_size", "64",
                   *data_flags, *flags]
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        error = process.stderr.read()
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{error[-3000:]}")
        results = json.load(open(os.path.join(output, "predict_results.json")))
        with open(os.path.join(output, predictions), encoding="utf-8") as stream:
            if task == "ner":  # word gold predicted
                lines = [line.split()[-1] for line in stream if line.strip()]
            else:  # a header, then index, predicted label, probabilities
                lines = [line.split("\t")[1] for line in stream.read().splitlines()[1:]]
        return {"samples_per_second": results["predict_samples_per_second"], "wall": wall,
                "rss": usage.ru_maxrss / 2**20, "score": results.get("predict_f1", float("nan")), "lines": lines}
    finally:
        shutil.rmtree(output, ignore_errors=True)


def make_int8(task: str, data: str, folder: str) -> dict:
    """The checked int8 graph, made before timing (dev is scored twice for the check)."""
    script, flags, _ = task_data(task, data)
    output = tempfile.mkdtemp(prefix="predict-bench-")
    try:
        subprocess.run([sys.executable, os.path.join(REPO, script), "--model_name_or_path", folder, "--output_dir",
                        output, "--do_eval", "--quantize", "int8", "--report_to", "none", "--quiet",
                        "--per_device_eval_batch_size", "64", *flags], check=True)
    finally:
        shutil.rmtree(output, ignore_errors=True)
    return json.load(open(os.path.join(folder, "onnx", "quantization.json")))


def packed_against_sorted(folder: str, data: str) -> None:
    """Forward passes over CoNLL-2003 test in PyTorch (the default precision): length-sorted batches of 64 against
    packed rows of 64 and 128 tokens (first fit over the sorted sentences, a 4D mask per row)."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from tunekit.training.speed import packing
    from tunekit.config.hardware import native_bf16

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForTokenClassification.from_pretrained(folder, attn_implementation="eager").eval()
    sentences, current = [], []
    for line in open(os.path.join(data, "conll2003", "test.txt"), encoding="utf-8"):
        parts = line.split()
        if not parts or parts[0] == "-DOCSTART-":
            if current:
                sentences.append(current)
            current = []
            continue
        current.append(parts[0])
    encoded = tokenizer(sentences, is_split_into_words=True, truncation=True, max_length=128)
    features = [{"input_ids": ids, "token_type_ids": types, "labels": [0] * len(ids)}
                for ids, types in zip(encoded["input_ids"], encoded["token_type_ids"])]
    features.sort(key=lambda feature: len(feature["input_ids"]))
    sorted_batches = []
    for start in range(0, len(features), 64):
        chunk = features[start : start + 64]
        batch = tokenizer.pad([{k: f[k] for k in ("input_ids", "token_type_ids")} for f in chunk], return_tensors="pt")
        sorted_batches.append(dict(batch))
    precision = torch.bfloat16 if native_bf16() else None
    tokens = sum(len(feature["input_ids"]) for feature in features)

    def timed(name, batches):
        def forward(batch):
            with torch.autocast("cpu", dtype=precision, enabled=precision is not None):
                return model(**batch).logits
        with torch.inference_mode():
            forward(batches[-1])
            started = time.perf_counter()
            for batch in batches:
                forward(batch)
            seconds = time.perf_counter() - started
        cells = sum(batch["input_ids"].numel() for batch in batches)
        print(f"| {name} | {len(sentences) / seconds:.0f} | {100 * (1 - tokens / cells):.1f}% |")

    print("\nForward passes only, PyTorch " + ("bf16" if precision else "fp32") + ", CoNLL-2003 test:\n")
    print("| prediction batches | sentences/s | padding |\n| --- | --- | --- |")
    timed("length-sorted batches of 64", sorted_batches)
    for capacity in (64, 128):
        packer = packing.PackedBatches(model.config.pad_token_id, 0, 8, additive_mask=True, min_row_length=capacity)
        batches, group, group_tokens = [], [], 0
        for feature in features:  # consecutive sorted sentences, about the tokens of 64 rows of `capacity`
            group.append(feature)
            group_tokens += len(feature["input_ids"])
            if group_tokens >= 0.95 * 64 * capacity:
                batches.append(packed(packer, group))
                group, group_tokens = [], 0
        if group:
            batches.append(packed(packer, group))
        timed(f"packed rows of {capacity} tokens", batches)


def packed(packer, group: list) -> dict:
    """The group packed first fit into the packer's rows, without the labels prediction has no use for."""
    batch = packer(group)
    del batch["labels"]
    return batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    parser.add_argument("--models", default=os.path.join(tempfile.gettempdir(), "predict-bench"),
                        help="where the trained folders are (trained there when missing)")
    parser.add_argument("--tasks", default="ner,glue")
    parser.add_argument("--skip_official", action="store_true")
    parser.add_argument("--no_packing", action="store_true", help="leave out the packed-rows section")
    args = parser.parse_args()
    print(f"Machine: {cpu_line()}", flush=True)
    for task in args.tasks.split(","):
        folder = os.path.join(args.models, "conll" if task == "ner" else "mrpc")
        train_if_missing(task, args.data, folder)
        shutil.rmtree(os.path.join(folder, "onnx"), ignore_errors=True)  # graphs and the check made afresh
        record = make_int8(task, args.data, folder)
        print(f"\n{task}: int8 check: dev {record['metric']} {record['int8']:.2f} against {record['exact']:.2f} exact, "
              f"kept {record['kept']} ({record['fp32_products']} in fp32)", flush=True)
        configs = {} if args.skip_official else {name: OFFICIAL_BEHAVIOUR + flags for name, flags in OFFICIAL.items()}
        configs.update(OURS)
        rows = {}
        for name, flags in configs.items():
            rows[name] = run_prediction(task, args.data, folder, flags)
            print(f"  {name}: {rows[name]['samples_per_second']:.1f} samples/s", flush=True)
        reference = rows["torch-fp32"]["lines"]
        official = [name for name in rows if name.startswith("official")]
        fastest = max(official, key=lambda name: rows[name]["samples_per_second"]) if official else None
        unit = "words" if task == "ner" else "texts"
        print(f"\n{'CoNLL-2003 test' if task == 'ner' else 'MRPC train pairs'} ({len(reference)} {unit}):\n")
        print(f"| config | samples/s | vs official fastest | process wall | peak RSS | F1 | {unit} differing from PyTorch fp32 |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for name, row in rows.items():
            ratio = f"{row['samples_per_second'] / rows[fastest]['samples_per_second']:.2f}x" if fastest else "-"
            differing = sum(a != b for a, b in zip(row["lines"], reference)) + abs(len(row["lines"]) - len(reference))
            marker = " (fastest official)" if name == fastest else ""
            print(f"| {name}{marker} | {row['samples_per_second']:.1f} | {ratio} | {row['wall']:.1f} s | "
                  f"{row['rss']:.2f} GB | {100 * row['score']:.2f} | {differing} |")
        if task == "ner" and not args.no_packing:
            packed_against_sorted(folder, args.data)


if __name__ == "__main__":
    main()
