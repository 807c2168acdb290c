#!/usr/bin/env python
"""Load on scripts/serve.sh: concurrent clients post texts for a fixed time, then requests/s, texts/s, p50/p99
latency, errors and how the server batched them.

The server runs in its own process on 127.0.0.1; each client thread keeps one HTTP connection and posts
--texts_per_request sentences of CoNLL-2003 test (NER) or MRPC pairs (classification) again and again for
--seconds, so the run is bounded whatever the speed. Every answer is checked (status 200, one result per text).

    python bench/serve_load.py /tmp/predict-bench/conll --clients 8 --seconds 20 --backend onnxruntime --quantize int8
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


def client(port: int, texts: list, per_request: int, stop_at: float, offset: int, results: list) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
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
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
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
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tunekit.serving.server", args.model_dir, "--port", str(port), "--backend", args.backend,
         "--quantize", args.quantize, "--batch_wait_ms", str(args.batch_wait_ms)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        health = wait_until_up(port, server)
        texts = sample_texts(args.data, health["task"])
        results: list = []
        stop_at = time.perf_counter() + args.seconds
        threads = [threading.Thread(target=client, args=(port, texts, args.texts_per_request, stop_at, i * 97, results))
                   for i in range(args.clients)]
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
    latencies = sorted(seconds for seconds, ok in results if ok)
    errors = sum(not ok for _, ok in results)

    def percentile(share):
        return 1000 * latencies[min(len(latencies) - 1, int(share * len(latencies)))] if latencies else float("nan")

    print(f"Machine: {cpu_line()}")
    print(f"{args.model_dir} ({health['task']}, {health['backend']}), {args.clients} clients x "
          f"{args.texts_per_request} text(s) per request, {elapsed:.1f} s, batch wait {args.batch_wait_ms} ms")
    print("| clients | requests/s | texts/s | p50 latency | p99 latency | errors | mean requests per batch |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {args.clients} | {len(latencies) / elapsed:.1f} | {len(latencies) * args.texts_per_request / elapsed:.1f} | "
          f"{percentile(0.5):.0f} ms | {percentile(0.99):.0f} ms | {errors} | {served['mean_requests_per_batch']} |")


if __name__ == "__main__":
    main()
