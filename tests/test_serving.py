"""scripts/serve.sh against a running server on 127.0.0.1: what predict.sh returns, concurrent requests batched,
bad requests answered with a 4xx JSON error while the server keeps serving, and the page in headless Chromium."""

import concurrent.futures
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import REPO, run_script

TEXTS = ["Anna Kowalski joined Helix Motors in Oslo last year .", "Shares in Orion Telecom fell 3 percent .",
         "", "Police in Lisbon arrested two men on Friday ."]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(url, body=None, method=None, raw=False):
    """(status, parsed JSON or text) of one HTTP request, error statuses included."""
    data = body if raw or body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, payload, kind = response.status, response.read().decode(), response.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        status, payload, kind = error.code, error.read().decode(), error.headers["Content-Type"]
    return status, json.loads(payload) if kind.startswith("application/json") else payload


@pytest.fixture(scope="module")
def server(trained_ner):
    """The trained folder served by scripts/serve.sh with small limits and a batching window wide enough to
    gather concurrent requests on a busy test machine."""
    port = free_port()
    process = subprocess.Popen(
        ["sh", "scripts/serve.sh", str(trained_ner), "--port", str(port), "--max_texts", "5",
         "--max_text_length", "300", "--batch_wait_ms", "150"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server stopped: {process.stdout.read()[-2000:]}")
        try:
            if call(url + "/health")[0] == 200:
                break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("the server did not answer /health within 120 s")
    yield url
    process.terminate()
    process.wait(timeout=30)


def test_predict_returns_what_predict_sh_returns(server, trained_ner):
    status, results = call(server + "/predict", TEXTS[:4])
    assert status == 200
    piped = run_script("sh", "scripts/predict.sh", str(trained_ner), input_text="\n".join(TEXTS) + "\n")
    assert piped.returncode == 0, piped.stderr[-2000:]
    assert results == [json.loads(line) for line in piped.stdout.splitlines()]
    assert results[0]["entities"], "the trained model finds entities in a training-like sentence"
    assert call(server + "/predict", [{"text": TEXTS[0]}])[1] == results[:1]  # objects as well as strings
    assert call(server + "/predict", [])[1] == []


def test_requests_arriving_together_are_batched_and_each_gets_its_own_answer(server):
    single = {text: call(server + "/predict", [text])[1][0] for text in TEXTS[:2]}
    before = call(server + "/health")[1]["served"]
    requests = [[TEXTS[i % 2]] for i in range(12)]
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda texts: call(server + "/predict", texts), requests))
    assert all(status == 200 for status, _ in answers)
    for texts, (_, results) in zip(requests, answers):
        assert results == [single[texts[0]]]
    after = call(server + "/health")[1]["served"]
    assert after["texts"] - before["texts"] == 12
    assert after["batches"] - before["batches"] < 12, "concurrent requests should share batches"


@pytest.mark.parametrize("body,status,message", [
    (b"not json", 400, "the request body is not JSON"),
    (b'{"text": "one"}', 400, "expected a JSON list of texts"),
    (b"[1, 2]", 400, "item 0: expected a string, an object or a [text, pair] list, not int"),
    (b'[{"sentence1": 3}]', 400, "item 0: an object needs a string field"),
    (b'[["a", "b"]]', 400, "this model tags texts (NER): give texts, not pairs"),
    (json.dumps(["a"] * 6).encode(), 413, "6 texts in one request; this server takes at most 5"),
    (json.dumps(["short", "x" * 301]).encode(), 413, "item 1: 301 characters; this server takes at most 300"),
])
def test_bad_requests_get_a_json_error_and_the_server_keeps_serving(server, body, status, message):
    got, answer = call(server + "/predict", body, raw=True)
    assert got == status
    assert message in answer["error"]
    assert call(server + "/predict", ["Anna visited Oslo ."])[0] == 200


def test_health_and_unknown_routes(server, trained_ner):
    status, health = call(server + "/health")
    assert status == 200 and health["status"] == "ok" and health["task"] == "ner" and health["backend"] == "torch"
    assert health["limits"]["max_texts"] == 5
    assert call(server + "/nowhere") == (404, {"error": "GET /nowhere: Not Found"})
    assert call(server + "/predict", method="GET")[0] == 405


def test_the_page_highlights_the_entities_in_headless_chromium(server):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "headless Chromium is needed (Debian: apt-get install chromium; .ci/run installs it)"
    text = TEXTS[0]
    entities = call(server + "/predict", [text])[1][0]["entities"]
    assert entities
    page = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000", "--dump-dom",
         f"{server}/?text={urllib.parse.quote(text)}"],
        capture_output=True, text=True, timeout=120,
    ).stdout
    for entity in entities:
        assert (f'<mark class="entity {entity["type"]}" title="{entity["type"]} {entity["score"]:.3f}" '
                f'data-type="{entity["type"]}">{entity["text"]}<span class="type">{entity["type"]}</span></mark>') in page


def test_a_classifier_page_shows_the_label(tiny_bert, tmp_path):
    import random

    from test_run_glue_e2e import train, write_mrpc

    write_mrpc(tmp_path, random.Random(2))
    output = train(tiny_bert, tmp_path / "out", "--task_name", "mrpc", "--data_dir", str(tmp_path))
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "tunekit.serving.server", str(output), "--port", str(port),
                                "--backend", "onnxruntime"], cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if call(url + "/health")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, process.stdout.read()[-2000:]
                time.sleep(0.3)
        status, results = call(url + "/predict", [["a good film", "a fine film"], ["a dull plot", "great actors"]])
        assert status == 200 and [r["text_pair"] for r in results] == ["a fine film", "great actors"]
        assert call(url + "/predict", [["a", "b"], "c"])[1]["error"] == "either every item or no item gives a text_pair"
        browser = shutil.which("chromium") or shutil.which("chromium-browser")
        query = urllib.parse.urlencode({"text": "a good film", "text_pair": "a fine film"})
        page = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
                               "--dump-dom", f"{url}/?{query}"], capture_output=True, text=True, timeout=120).stdout
        assert f'<strong id="label">{results[0]["label"]}</strong>' in page
    finally:
        process.terminate()
        process.wait(timeout=30)
