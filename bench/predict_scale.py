#!/usr/bin/env python
"""predict.sh at corpus scale: peak memory and speed over inputs of growing size, and a run killed halfway that
the same command finishes. Each size is a process of its own (`/usr/bin/time -v` gives its peak resident memory);
run it alone (two torch processes on 2 cores slow each other far more than 2x).

    python bench/predict_scale.py outputs/ner_sample --lines 2000,20000
    python bench/predict_scale.py outputs/ner_sample --repo /tmp/before   # the same in another checkout

The input is CoNLL-2003's test sentences as plain lines (../shared/data/conll2003/test.txt), repeated to each size.
"""

import argparse
import os
import platform
import re
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONLL_TEST = os.path.join(os.path.dirname(REPO), "shared", "data", "conll2003", "test.txt")


def cpu() -> str:
    with open("/proc/cpuinfo", encoding="utf-8") as stream:
        text = stream.read()
    name = re.search(r"model name\s*:\s*(.*)", text)
    flags = sorted(set(re.findall(r"\b(avx512_bf16|amx_tile|avx2)\b", text)))
    return f"{name.group(1) if name else platform.processor()}, {os.cpu_count()} cores, flags: {' '.join(flags)}"


def sentences(path: str) -> list:
    words, lines = [], []
    with open(path, encoding="utf-8") as stream:
        for line in stream:
            if not line.strip() or line.startswith("-DOCSTART-"):
                if words:
                    lines.append(" ".join(words))
                    words = []
            else:
                words.append(line.split()[0])
    return lines + ([" ".join(words)] if words else [])


def write_input(path: str, lines: int, texts: list) -> None:
    with open(path, "w", encoding="utf-8") as stream:
        for index in range(lines):
            stream.write(texts[index % len(texts)] + "\n")


def predict(repo: str, folder: str, texts: str, output: str) -> list:
    return ["/usr/bin/time", "-v", "sh", os.path.join(repo, "scripts", "predict.sh"), folder, "--quiet",
            "--input", texts, "--output", output]


def measured(command: list) -> tuple:
    """(seconds, peak resident MB) of a finished command."""
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    return seconds, int(peak.group(1)) / 1024 if peak else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    parser.add_argument("--lines", default="2000,20000")
    parser.add_argument("--repo", default=REPO, help="the checkout whose predict.sh runs")
    parser.add_argument("--work", default="/tmp/predict_scale")
    parser.add_argument("--kill", action="store_true", help="also kill the largest run halfway and finish it")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    texts = sentences(CONLL_TEST)
    print(f"CPU: {cpu()}\ncheckout: {args.repo}\n")
    print("| lines | seconds | lines/s | peak memory (MB) |\n| ---: | ---: | ---: | ---: |")
    for lines in [int(value) for value in args.lines.split(",")]:
        path, output = os.path.join(args.work, f"in-{lines}.txt"), os.path.join(args.work, f"out-{lines}.jsonl")
        write_input(path, lines, texts)
        for stale in (output, output + ".partial.json"):
            if os.path.exists(stale):
                os.remove(stale)
        seconds, peak = measured(predict(args.repo, args.folder, path, output))
        print(f"| {lines:,} | {seconds:.1f} | {lines / seconds:,.0f} | {peak:,.0f} |", flush=True)
    if args.kill:
        whole = output
        killed = os.path.join(args.work, "killed.jsonl")
        for stale in (killed, killed + ".partial.json"):
            if os.path.exists(stale):
                os.remove(stale)
        process = subprocess.Popen(predict(args.repo, args.folder, path, killed)[2:], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        while (not os.path.exists(killed) or open(killed, "rb").read().count(b"\n") < lines // 2) and process.poll() is None:
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        done = open(killed, "rb").read().count(b"\n")
        seconds, _ = measured(predict(args.repo, args.folder, path, killed))
        same = open(killed, "rb").read() == open(whole, "rb").read()
        print(f"\nkilled (SIGKILL) after {done:,} of {lines:,} lines; the same command finished the rest in "
              f"{seconds:.1f} s; output {'identical to' if same else 'DIFFERENT from'} the uninterrupted run's")


if __name__ == "__main__":
    main()
