#!/usr/bin/env python
"""Load on scripts/serve.sh: concurrent clients post texts for a fixed time, then requests/s, texts/s, p50/p99
latency, errors and how the server batched them.

The server runs in its own process on 127.0.0.1; each client thread keeps one HTTP connection and posts
--texts_per_request sentences of CoNLL-2003 test (NER) or MRPC pairs (classification) again and again for
--seconds, so the run is bounded whatever the speed. Every answer is checked (status 200, one result per text).

    python bench/serve_load.py /tmp/predict-bench/conll --clients 8 --seconds 20 --backend onnxruntime --quantize int8

--heavy_clients N adds N clients that post maximum-size requests (--max_texts texts of --max_text_length characters,
made of test sentences) in a loop; the light clients' latency is then what a one-sentence user sees while someone
else floods the server (the target: p99 under 1 s on 2 cores, no error).
"""

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from bench.predict_speed import cpu_line  # noqa: E402


def sample_texts(data: str, task: str, count: int = 2000) -> list:
    if task == "ner":
        texts, words = [], []
        for line in open(os.path.join(data, "conll2003", "test.txt"), encoding="utf-8"):
            parts = line.split()
            if not parts or parts[0] == "-DOCSTART-":
                if words:
                    texts.append(" ".join(words))
                words = []
            else:
                words.append(parts[0])
        return texts[:count]
    rows = open(os.path.join(data, "glue", "MRPC", "dev.tsv"), encoding="utf-8-sig").read().splitlines()[1:]
    return [{"text": row.split("\t")[3], "text_pair": row.split("\t")[4]} for row in rows][:count]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(port: int, process, seconds: float = 180) -> dict:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server stopped:\n{process.stdout.read()[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/health")
            return json.loads(connection.getresponse().read())
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not come up")


def long_texts(texts: list, count: int, length: int) -> list:
    """count texts of about `length` characters, each made of consecutive sample sentences."""
    made, position = [], 0
    for _ in range(count):
        parts = []
        while sum(len(part) + 1 for part in parts) + len(texts[position % len(texts)]) < length:
            parts.append(texts[position % len(texts)])
            position += 1
        made.append(" ".join(parts))
    return made


def client(port: int, texts: list, per_request: int, stop_at: float, offset: int, results: list) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    position = offset
    while time.perf_counter() < stop_at:
        batch = [texts[(position + i) % len(texts)] for i in range(per_request)]
        position += per_request
        started = time.perf_counter()
        try:
            connection.request("POST", "/predict", json.dumps(batch), {"Content-Type": "application/json"})
            response = connection.getresponse()
            body = response.read()
            ok = response.status == 200 and len(json.loads(body)) == per_request
        except (OSError, http.client.HTTPException, ValueError):
            ok = False
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        results.append((time.perf_counter() - started, ok))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir")
    parser.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--texts_per_request", type=int, default=1)
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--quantize", default="none")
    parser.add_argument("--batch_wait_ms", type=float, default=5.0)
    parser.add_argument("--heavy_clients", type=int, default=0)
    parser.add_argument("--max_batch_characters", type=int, default=None, help="the server's flag (default: its own)")
    parser.add_argument("--max_texts", type=int, default=64, help="the server's limit, and a heavy request's texts")
    parser.add_argument("--max_text_length", type=int, default=10000, help="the server's limit, and a heavy text's size")
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tunekit.programs.serve", args.model_dir, "--port", str(port), "--backend", args.backend,
         "--quantize", args.quantize, "--batch_wait_ms", str(args.batch_wait_ms), "--max_texts", str(args.max_texts),
         "--max_text_length", str(args.max_text_length)]
        + (["--max_batch_characters", str(args.max_batch_characters)] if args.max_batch_characters else []),
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        health = wait_until_up(port, server)
        texts = sample_texts(args.data, health["task"])
        results: list = []
        heavy_results: list = []
        stop_at = time.perf_counter() + args.seconds
        threads = [threading.Thread(target=client, args=(port, texts, args.texts_per_request, stop_at, i * 97, results))
                   for i in range(args.clients)]
        heavy = long_texts(texts, args.max_texts, args.max_text_length) if args.heavy_clients else []
        threads += [threading.Thread(target=client, args=(port, heavy, args.max_texts, stop_at, 0, heavy_results))
                    for _ in range(args.heavy_clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/health")
        served = json.loads(connection.getresponse().read())["served"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"Machine: {cpu_line()}")
    print(f"{args.model_dir} ({health['task']}, {health['backend']}), {elapsed:.1f} s, batch wait {args.batch_wait_ms} ms, "
          f"mean requests per model call {served['mean_requests_per_batch']}")
    print("| clients | texts per request | requests/s | texts/s | p50 latency | p99 latency | max latency | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    rows = [(args.clients, args.texts_per_request, results)]
    if args.heavy_clients:
        rows.append((args.heavy_clients, f"{args.max_texts} x {args.max_text_length} characters", heavy_results))
    for clients, per_request, answered in rows:
        latencies = sorted(seconds for seconds, ok in answered if ok)
        count = per_request if isinstance(per_request, int) else args.max_texts

        def percentile(share):
            return 1000 * latencies[min(len(latencies) - 1, int(share * len(latencies)))] if latencies else float("nan")

        print(f"| {clients} | {per_request} | {len(latencies) / elapsed:.2f} | {len(latencies) * count / elapsed:.1f} | "
              f"{percentile(0.5):.0f} ms | {percentile(0.99):.0f} ms | {percentile(1.0):.0f} ms | "
              f"{sum(not ok for _, ok in answered)} |")


if __name__ == "__main__":
    main()
