"""The server: requests through Starlette's test client on the app (what predict.sh returns, concurrent requests
batched, bad requests answered with a 4xx JSON error while the server keeps serving); scripts/serve.sh once as a
real process on 127.0.0.1, with the page in headless Chromium."""

import concurrent.futures
import contextlib
import json
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import REPO, chromium_dom, run_program

TEXTS = ["Anna Kowalski joined Helix Motors in Oslo last year .", "Shares in Orion Telecom fell 3 percent .",
         "", "Police in Lisbon arrested two men on Friday ."]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def call(url, body=None, method=None, raw=False):
    """(status, parsed JSON or text) of one HTTP request to a real server, error statuses included."""
    data = body if raw or body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, payload, kind = response.status, response.read().decode(), response.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        status, payload, kind = error.code, error.read().decode(), error.headers["Content-Type"]
    return status, json.loads(payload) if kind.startswith("application/json") else payload


class App:
    """The app behind Starlette's test client, called like a server: (status, parsed JSON or text)."""

    def __init__(self, client):
        self.client = client

    def __call__(self, path, body=None, method=None, raw=False):
        data = body if raw or body is None else json.dumps(body).encode()
        method = method or ("POST" if data is not None else "GET")
        response = self.client.request(method, path, content=data, headers={"Content-Type": "application/json"})
        json_body = response.headers["content-type"].startswith("application/json")
        return response.status_code, response.json() if json_body else response.text


@pytest.fixture(scope="module")
def app(trained_ner):
    """The trained folder's app with small limits and a batching window wide enough to gather concurrent requests
    on a busy test machine, as `serve.sh --max_texts 5 --max_text_length 300 --batch_wait_ms 150` makes it."""
    from starlette.testclient import TestClient

    from tunekit.serving.requests import Limits
    from tunekit.serving.server import make_app

    with TestClient(make_app(str(trained_ner), limits=Limits(5, 300), batch_wait_ms=150)) as client:
        yield App(client)


@contextlib.contextmanager
def serving(app):
    """A real HTTP server for the app on 127.0.0.1 (uvicorn, as serve.sh runs it), in a thread of this process."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started and thread.is_alive() and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def rendered(url) -> str:
    """The page's DOM after headless Chromium has run its script against the server."""
    return chromium_dom(url, "--virtual-time-budget=10000")


@pytest.mark.slow
def test_predict_returns_what_predict_sh_returns(app, trained_ner):
    status, results = app("/predict", TEXTS[:4])
    assert status == 200
    piped = run_program("sh", "scripts/predict.sh", str(trained_ner), input_text="\n".join(TEXTS) + "\n")
    assert piped.returncode == 0, piped.stderr[-2000:]
    assert results == [json.loads(line) for line in piped.stdout.splitlines()]
    assert results[0]["entities"], "the trained model finds entities in a training-like sentence"
    assert app("/predict", [{"text": TEXTS[0]}])[1] == results[:1]  # objects as well as strings
    assert app("/predict", [])[1] == []


def test_requests_arriving_together_are_batched_and_each_gets_its_own_answer(app):
    single = {text: app("/predict", [text])[1][0] for text in TEXTS[:2]}
    before = app("/health")[1]["served"]
    requests = [[TEXTS[i % 2]] for i in range(12)]
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda texts: app("/predict", texts), requests))
    assert all(status == 200 for status, _ in answers)
    for texts, (_, results) in zip(requests, answers):
        assert results == [single[texts[0]]]
    after = app("/health")[1]["served"]
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
def test_bad_requests_get_a_json_error_and_the_server_keeps_serving(app, body, status, message):
    got, answer = app("/predict", body, raw=True)
    assert got == status
    assert message in answer["error"]
    assert app("/predict", ["Anna visited Oslo ."])[0] == 200


def test_health_and_unknown_routes(app, trained_ner):
    status, health = app("/health")
    assert status == 200 and health["status"] == "ok" and health["task"] == "ner" and health["backend"] == "torch"
    assert health["limits"]["max_texts"] == 5
    assert app("/nowhere") == (404, {"error": "GET /nowhere: Not Found"})
    assert app("/predict", method="GET")[0] == 405


@pytest.mark.slow
def test_serve_sh_answers_over_http_and_its_page_highlights_the_entities_in_headless_chromium(trained_ner, app):
    """scripts/serve.sh as a user starts it: a process, a port, the page in a browser."""
    port = free_port()
    process = subprocess.Popen(
        ["sh", "scripts/serve.sh", str(trained_ner), "--port", str(port), "--max_texts", "5",
         "--max_text_length", "300", "--batch_wait_ms", "150"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    server = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the server stopped: {process.stdout.read()[-2000:]}")
            try:
                if call(server + "/health")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        else:
            pytest.fail("the server did not answer /health within 120 s")
        status, health = call(server + "/health")
        assert status == 200 and health["limits"]["max_texts"] == 5 and health["task"] == "ner"
        text = TEXTS[0]
        status, results = call(server + "/predict", [text])
        assert status == 200 and results == app("/predict", [text])[1]  # the app the other tests call
        entities = results[0]["entities"]
        assert entities
        assert call(server + "/nowhere") == (404, {"error": "GET /nowhere: Not Found"})
        page = rendered(f"{server}/?text={urllib.parse.quote(text)}")
    finally:
        process.terminate()
        process.wait(timeout=30)
    for entity in entities:
        assert (f'<mark class="entity {entity["type"]}" title="{entity["type"]} {entity["score"]:.3f}" '
                f'data-type="{entity["type"]}">{entity["text"]}<span class="type">{entity["type"]}</span></mark>') in page


@pytest.mark.slow
def test_a_classifier_page_shows_the_label(trained_pairs):
    from tunekit.serving.server import make_app

    with serving(make_app(str(trained_pairs), backend="onnxruntime")) as url:
        status, results = call(url + "/predict", [["a good film", "a fine film"], ["a dull plot", "great actors"]])
        assert status == 200 and [r["text_pair"] for r in results] == ["a fine film", "great actors"]
        assert call(url + "/predict", [["a", "b"], "c"])[1]["error"] == "either every item or no item gives a text_pair"
        query = urllib.parse.urlencode({"text": "a good film", "text_pair": "a fine film"})
        page = rendered(f"{url}/?{query}")
    assert f'<strong id="label">{results[0]["label"]}</strong>' in page
