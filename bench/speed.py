#!/usr/bin/env python
"""Training and prediction speed of our default path against the official scripts' behaviour, on real data.

Each configuration runs run_ner.py (CoNLL-2003) or run_glue.py (MRPC) in its own process on the same workload
and prints samples/s, real tokens/s, the padding fraction of its batches, wall time, prediction samples/s,
peak RSS, the dev score and model FLOPs utilisation, then the ratios to the plain configuration.

    python bench/speed.py --data ../shared/data --task ner --train_samples 4000
    python bench/speed.py --data ../shared/data --task ner --train_samples all      # a full epoch
    python bench/speed.py --data ../shared/data --task glue                         # MRPC
    python bench/speed.py --data ../shared/data --scale                             # time and memory vs size

Configurations:
  plain      the official scripts' behaviour: random batches padded to each batch's longest (run_ner.py) or
             every example to max_seq_length (run_glue.py), fp32, input-order evaluation, sdpa attention,
             Trainer's training step (torch's dropout, the whole embedding matrix, clipping in its own pass)
  best-flags the official scripts' fastest flags: --train_sampling_strategy group_by_length --bf16
  default    ours with no speed flags (for NER: random batches, packed)
  buckets    ours with --no_pack_sequences: NER on length buckets (the default before packing; for
             classification the same as default)
  wide-buckets  buckets of 50 batches: uniform batches as the official length grouping makes
             (faster, about 0.5 dev F1 lower after one CoNLL-2003 epoch); only with --configs
Run it on an otherwise idle machine: two PyTorch processes on the same cores slow each other down.
On a CUDA machine the same configurations run on the GPU (ours then trains NER on length buckets, as the speed
switch decides there), the matmul peak is the GPU's, and the machine line names the GPU.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from tunekit.training.speed.buckets import BUCKET_BATCHES, batches_of, bucketed_batches, padding_fraction  # noqa: E402
from tunekit.modeling.loading import default_model_path  # noqa: E402
from tunekit.config.hardware import cpu_model  # noqa: E402
from tunekit.training.speed.packing import first_fit_rows, row_capacity  # noqa: E402

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"

WIDE_BUCKETS = 50
# the official scripts' training step: torch's dropout, the whole embedding matrix, clipping in a pass of its own
OFFICIAL_STEP = ["--no_fast_dropout", "--no_skip_unused_embedding_rows", "--no_fold_clipping"]
CONFIGS = {
    "plain": ["--precision", "fp32", "--no_length_bucketing", "--attn_implementation", "sdpa", *OFFICIAL_STEP],
    "best-flags": ["--precision", "bf16", "--no_length_bucketing", "--attn_implementation", "sdpa", *OFFICIAL_STEP,
                   "--train_sampling_strategy", "group_by_length", "--pad_to_multiple_of", "1"],
    "default": [],
    "buckets": ["--no_pack_sequences"],
    "wide-buckets": ["--no_pack_sequences", "--length_bucket_batches", str(WIDE_BUCKETS)],
}
BUCKETS = {"default": BUCKET_BATCHES, "buckets": BUCKET_BATCHES, "wide-buckets": WIDE_BUCKETS}  # batches per bucket
OURS = tuple(BUCKETS)


def config_flags(name, task):
    """A configuration's flags; the official run_glue.py pads every example to max_seq_length by default."""
    return CONFIGS[name] + (["--pad_to_max_length"] if task == "glue" and name == "plain" else [])


def pad_multiple(name):
    """Rounding of batch lengths: ours rounds to 8 under bf16."""
    return 8 if name in OURS else 1
BATCH = 32


def workload(task, data, train_samples, max_length, epochs):
    """The script and flags every configuration shares."""
    common = [
        "--do_train", "--do_eval", "--do_predict", "--num_train_epochs", str(epochs),
        "--per_device_train_batch_size", str(BATCH), "--per_device_eval_batch_size", "64",
        "--max_seq_length", str(max_length), "--seed", "42", "--save_strategy", "no", "--report_to", "none",
        "--quiet", "--overwrite_output_dir",
    ] + ([] if train_samples == "all" else ["--max_train_samples", str(train_samples)])
    if task == "ner":
        folder = os.path.join(data, "conll2003")
        return "run_ner.py", common + ["--data_dir", folder, "--learning_rate", "5e-5"]
    folder = os.path.join(data, "glue", "MRPC")
    # MRPC has no labelled test set here; the predict pass runs over the 3,668 training pairs, long enough to time
    # (the 408 dev pairs take about a second, mostly fixed costs).
    return "run_glue.py", common + [
        "--task_name", "mrpc", "--data_dir", folder, "--test_file", os.path.join(folder, "train.tsv"),
        "--learning_rate", "2e-5",
    ]


def train_lengths(task, data, train_samples, max_length):
    """Word pieces per training example (special tokens included), as the scripts encode them."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(default_model_path())
    if task == "ner":
        from tunekit.data.readers import TokenReadOptions, read_token_file

        rows = [row["tokens"] for row in read_token_file(os.path.join(data, "conll2003", "train.txt"), TokenReadOptions())]
        rows = rows if train_samples == "all" else rows[: int(train_samples)]
        encoded = tokenizer(rows, is_split_into_words=True, truncation=True, max_length=max_length)
    else:
        from tunekit.data.readers.classification import ExampleReadOptions, read_classification_file
        from tunekit.data.glue_tasks import GLUE_TASKS

        task = GLUE_TASKS["mrpc"]
        options = ExampleReadOptions(text_columns=list(task.text_columns), label_column=task.label_column, has_header=True)
        rows = list(read_classification_file(os.path.join(data, "glue", "MRPC", "train.tsv"), options))
        rows = rows if train_samples == "all" else rows[: int(train_samples)]
        encoded = tokenizer([r["text_a"] for r in rows], [r["text_b"] for r in rows], truncation=True, max_length=max_length)
    return np.array([len(ids) for ids in encoded["input_ids"]])


def simulated_padding(config, lengths, task, max_length):
    """Padding share of the batches each configuration's sampler draws (same samplers, seed 42)."""
    if task == "glue" and config == "plain":
        return 1.0 - lengths.mean() / max_length
    generator = torch.Generator().manual_seed(42)
    if config == "default" and task == "ner" and DEVICE == "cpu":  # random batches, packed (CPU only)
        batches = batches_of(torch.randperm(len(lengths), generator=generator).tolist(), BATCH)
        return packed_padding(lengths, batches, pad_multiple(config))
    if config in OURS:
        batches = bucketed_batches(lengths, BATCH, generator, BUCKETS[config], equal_tokens=task == "ner")
    elif config == "best-flags":
        from transformers.trainer_pt_utils import get_length_grouped_indices

        batches = batches_of(get_length_grouped_indices(lengths.tolist(), BATCH, generator=generator), BATCH)
    else:
        batches = batches_of(torch.randperm(len(lengths), generator=generator).tolist(), BATCH)
    return padding_fraction(lengths, batches, pad_multiple(config))


def packed_padding(lengths, batches, multiple):
    """Padding share of random batches packed into rows as long as their longest (packing.PackedBatches)."""
    cells = 0
    for batch in batches:
        capacity = row_capacity(lengths[batch], multiple)
        cells += capacity * len(first_fit_rows(lengths[batch].tolist(), capacity))
    return 1.0 - lengths.sum() / cells


def model_shape():
    """(non-embedding parameters, layers, hidden size) of the offline MiniLM."""
    from transformers import AutoModel

    model = AutoModel.from_pretrained(default_model_path())
    embeddings = sum(p.numel() for p in model.embeddings.parameters())
    total = sum(p.numel() for name, p in model.named_parameters() if not name.startswith("pooler"))
    return total - embeddings, model.config.num_hidden_layers, model.config.hidden_size


def training_flops(lengths, shape, epochs):
    """6 x non-embedding parameters per real token, plus attention scores and mixing (12 x layers x hidden x L^2
    per sequence for forward and backward), on the real tokens only."""
    parameters, layers, hidden = shape
    per_epoch = 6 * parameters * lengths.sum() + 12 * layers * hidden * (lengths.astype(np.float64) ** 2).sum()
    return per_epoch * epochs


def matmul_peak(dtype, size=2048, repeats=6):
    """FLOP/s of a large square matmul on this machine's device (the practical peak MFU is measured against)."""
    if DEVICE == "cuda":
        size, repeats = 8192, 20
    a = torch.randn(size, size, dtype=dtype, device=DEVICE)
    b = torch.randn(size, size, dtype=dtype, device=DEVICE)
    a @ b
    synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    synchronize()
    return 2 * size**3 * repeats / (time.perf_counter() - start)


def synchronize():
    if DEVICE == "cuda":
        torch.cuda.synchronize()


def describe_machine():
    """The device the configurations run on: the GPU, or the CPU model and the flags that decide bf16."""
    if DEVICE == "cuda":
        return f"GPU: {torch.cuda.get_device_name(0)}, CPU: {cpu_model()}"
    try:
        flags = open("/proc/cpuinfo", encoding="utf-8").read().split("flags", 1)[1].split("\n", 1)[0].split()
    except (OSError, IndexError):
        flags = []
    wanted = [flag for flag in ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile") if flag in flags]
    return f"CPU: {cpu_model()}, {os.cpu_count()} cores, flags: {' '.join(wanted) or 'none of avx2/avx512/amx'}"


def run(script, flags, output_dir):
    """Run one configuration; returns (its results, peak RSS in bytes, wall seconds)."""
    command = [sys.executable, os.path.join(REPO, script), "--output_dir", output_dir] + flags
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(command)} failed:\n{output[-3000:]}")
    with open(os.path.join(output_dir, "all_results.json")) as stream:
        return json.load(stream), usage.ru_maxrss * 1024, wall


def compare(args):
    script, flags = workload(args.task, args.data, args.train_samples, args.max_seq_length, args.epochs)
    lengths = train_lengths(args.task, args.data, args.train_samples, args.max_seq_length)
    shape = model_shape()
    flops = training_flops(lengths, shape, args.epochs)
    peaks = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}
    score = "eval_f1"
    print(describe_machine())
    print(f"workload: {script} {args.task} {len(lengths)} training examples x {args.epochs} epoch(s), batch {BATCH}, "
          f"max length {args.max_seq_length}; {lengths.sum()} real training tokens (mean {lengths.mean():.1f})")
    print(f"matmul peak here: fp32 {peaks['fp32'] / 1e9:.0f} GFLOP/s, bf16 {peaks['bf16'] / 1e9:.0f} GFLOP/s; "
          f"{torch.get_num_threads()} threads")
    header = (f"{'config':<12} {'train/s':>8} {'tokens/s':>9} {'padding':>8} {'train s':>8} {'wall s':>7} "
              f"{'predict/s':>9} {'peak RSS':>9} {'dev ' + score[5:]:>8} {'MFU':>6}")
    print(header)
    rows = {}
    for name in args.configs.split(","):
        with tempfile.TemporaryDirectory() as output_dir:
            results, rss, wall = run(script, flags + config_flags(name, args.task), output_dir)
        runtime = results["train_runtime"]
        precision = "fp32" if "fp32" in CONFIGS[name] else "bf16"
        row = {
            "train": len(lengths) * args.epochs / runtime,
            "tokens": lengths.sum() * args.epochs / runtime,
            "padding": simulated_padding(name, lengths, args.task, args.max_seq_length),
            "runtime": runtime,
            "wall": wall,
            "predict": results.get("predict_samples_per_second", float("nan")),
            "rss": rss,
            "score": results.get(score, float("nan")),
            "mfu": flops / runtime / peaks[precision],
        }
        rows[name] = row
        print(f"{name:<12} {row['train']:>8.1f} {row['tokens']:>9.0f} {row['padding']:>8.1%} {runtime:>8.1f} "
              f"{wall:>7.1f} {row['predict']:>9.1f} {rss / 2**30:>7.2f}GB {row['score'] * 100:>8.2f} "
              f"{row['mfu']:>6.1%}", flush=True)
    for ours, base in [(ours, base) for ours in OURS for base in ("plain", "best-flags")]:
        if base in rows and ours in rows:
            d, b = rows[ours], rows[base]
            print(f"{ours} vs {base}: training {d['train'] / b['train']:.2f}x, prediction {d['predict'] / b['predict']:.2f}x, "
                  f"peak RSS {d['rss'] / b['rss']:.2f}x, dev {score[5:]} {100 * (d['score'] - b['score']):+.2f}")


def scale(args):
    """Training time and peak memory of the default configuration as the data and max length grow."""
    print(describe_machine())
    print(f"{'sentences':>9} {'max len':>7} {'train s':>8} {'train/s':>8} {'peak RSS':>9}")
    cases = [(n, 128) for n in (1000, 4000, "all")] + [(4000, length) for length in (64, 256, 512)]
    for samples, length in cases:
        script, flags = workload("ner", args.data, samples, length, 1)
        flags = [f for f in flags if f not in ("--do_eval", "--do_predict")]
        with tempfile.TemporaryDirectory() as output_dir:
            results, rss, _ = run(script, flags, output_dir)
        count = results["train_samples"]
        print(f"{count:>9} {length:>7} {results['train_runtime']:>8.1f} {count / results['train_runtime']:>8.1f} "
              f"{rss / 2**30:>7.2f}GB", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"), help="folder holding conll2003/ and glue/")
    parser.add_argument("--task", choices=("ner", "glue"), default="ner")
    parser.add_argument("--train_samples", default="4000", help="number of training examples, or 'all'")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max_seq_length", type=int, default=128)
    parser.add_argument("--configs", default=None, help="default: plain,best-flags,default (+ buckets for ner)")
    parser.add_argument("--scale", action="store_true", help="print the time and memory table instead")
    args = parser.parse_args()
    if args.configs is None:
        args.configs = "plain,best-flags,default" + (",buckets" if args.task == "ner" else "")
    scale(args) if args.scale else compare(args)


if __name__ == "__main__":
    main()
