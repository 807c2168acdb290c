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
    from tunekit.programs.serve import make_app

    with TestClient(make_app(str(trained_ner), limits=Limits(5, 300), batch_wait_ms=150)) as client:
        yield App(client)


@contextlib.contextmanager
def serving(app, header_timeout=10.0):
    """A real HTTP server for the app on 127.0.0.1 (uvicorn with serve.sh's protocol), in a thread of this process."""
    import uvicorn

    from tunekit.serving.protocol import guarded_protocol

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           http=guarded_protocol(header_timeout)))
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
    (b'[{"sentence1": 3}]', 400, "item 0: no text: expected a string field text or sentence or sentence1"),
    (b'[{"text": "a", "text_pair": 3}]', 400, "item 0: text_pair must be a string"),
    (b'[["a", "b"]]', 400, "this model tags texts (NER): give texts, not pairs"),
    (json.dumps(["a"] * 6).encode(), 413, "6 texts in one request; this server takes at most 5"),
    (json.dumps(["short", "x" * 301]).encode(), 413, "item 1: 301 characters; this server takes at most 300"),
    (b'["fine", "Anna \\ud800 Oslo"]', 400, "item 1: invalid Unicode: character 6 is half of a surrogate pair"),
    (b"[" * 100000, 400, "the request body is not JSON (nested too deeply)"),
    (b"[" + b"1" * 5000 + b"]", 400, "the request body is not JSON (Exceeds the limit"),
    (b"\xff\xfe[]", 400, "the request body is not JSON ("),
    (b"x" * (4 * 1024 * 1024 + 1), 413, "the request body has 4194305 bytes; this server takes at most 4194304"),
])
def test_bad_requests_get_a_json_error_and_the_server_keeps_serving(app, body, status, message):
    got, answer = app("/predict", body, raw=True)
    assert got == status
    assert message in answer["error"]
    assert app("/predict", ["Anna visited Oslo ."])[0] == 200


def test_only_json_is_taken(app):
    response = app.client.post("/predict", content=b"text=Anna", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415 and response.json() == {
        "error": "send the texts as JSON with Content-Type: application/json, not application/x-www-form-urlencoded"}
    response = app.client.post("/predict", content=b'["Anna"]', headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 200


def test_a_bad_text_fails_its_own_request_only(app, monkeypatch):
    """Concurrent requests batched together: the one with a text the checks refuse gets a 400, and one whose text
    makes the model itself fail gets a JSON 500; every other request gets what it gets alone."""
    from tunekit.inference.ner import NerPredictor

    alone = {text: app("/predict", [text])[1] for text in TEXTS[:2]}
    real = NerPredictor.records

    def failing(predictor, texts, pairs, progress=None):
        if any("Kaboom" in text for text in texts):
            raise RuntimeError("the tokenizer fell over")
        return real(predictor, texts, pairs, progress)

    monkeypatch.setattr(NerPredictor, "records", failing)
    requests = [[TEXTS[i % 2]] for i in range(10)]
    requests[3] = [TEXTS[0], "Anna \ud800 Oslo"]
    requests[6] = [TEXTS[1], "Kaboom in Oslo"]
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda texts: app("/predict", texts), requests))
    for number, (texts, (status, body)) in enumerate(zip(requests, answers)):
        if number == 3:
            assert status == 400 and body["error"].startswith("item 1: invalid Unicode")
        elif number == 6:
            assert status == 500 and body == {"error": "item 1: the model could not read this text (an internal "
                                                       "error, logged with its traceback)"}
        else:
            assert (status, body) == (200, alone[texts[0]])


def test_the_host_header_is_checked_on_a_loopback_server(trained_ner):
    from starlette.testclient import TestClient

    from tunekit.serving.guards import LOOPBACK_NAMES, host_name, is_loopback
    from tunekit.programs.serve import make_app

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and not is_loopback("0.0.0.0")
    assert [host_name(h) for h in ("localhost:8000", "[::1]:8000", "127.0.0.1", "EVIL.example:80")] == [
        "localhost", "::1", "127.0.0.1", "evil.example"]
    with TestClient(make_app(str(trained_ner), allowed_hosts=LOOPBACK_NAMES)) as client:
        rebound = client.get("/health", headers={"Host": "attacker.example:8000"})
        assert rebound.status_code == 403 and rebound.json()["error"].startswith(
            "Host 'attacker.example:8000' is not served here; this server answers to 127.0.0.1, ::1, localhost")
        for host in ("localhost:8000", "127.0.0.1:8000", "[::1]:8000"):
            assert client.get("/health", headers={"Host": host}).status_code == 200


@pytest.mark.slow
def test_slow_clients_are_cut_off_and_the_body_limit_holds_while_reading(trained_ner):
    from tunekit.serving.requests import Limits
    from tunekit.programs.serve import make_app

    app = make_app(str(trained_ner), limits=Limits(max_body_bytes=1000), body_timeout=1.0)
    with serving(app, header_timeout=1.0) as url:
        port = int(url.rpartition(":")[2])
        half_headers, half_body, idle = (socket.create_connection(("127.0.0.1", port)) for _ in range(3))
        half_headers.sendall(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty")
        half_body.sendall(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 100\r\n\r\n[\"Anna")
        started = time.time()
        answers = []
        for connection in (half_headers, half_body, idle):
            connection.settimeout(10)
            answers.append(b"".join(iter(lambda: connection.recv(4096), b"")))  # until the server closes it
            connection.close()
        assert time.time() - started < 6
        assert answers[0].startswith(b"HTTP/1.1 408") and b"headers did not arrive within 1 seconds" in answers[0]
        assert answers[1].startswith(b"HTTP/1.1 408") and b"the request body did not arrive within 1 seconds" in answers[1]
        assert answers[2].startswith(b"HTTP/1.1 408")  # a connection that never sends anything
        garbage = socket.create_connection(("127.0.0.1", port))
        garbage.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        garbage.settimeout(10)
        reply = b"".join(iter(lambda: garbage.recv(4096), b""))
        garbage.close()
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400") and b"application/json" in head
        assert json.loads(body)["error"].startswith("the request is not valid HTTP/1.1")
        # a body past the limit is refused while it is read: the client is told before sending the rest
        stream = socket.create_connection(("127.0.0.1", port))
        stream.sendall(b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n%s\r\n" % (1200, b" " * 1200))
        stream.settimeout(10)
        reply = b"".join(iter(lambda: stream.recv(4096), b""))
        stream.close()
        assert reply.startswith(b"HTTP/1.1 413") and b"passed 1000 bytes" in reply
        assert call(url + "/predict", ["Anna visited Oslo ."])[0] == 200  # and the server goes on


def test_health_and_unknown_routes(app, trained_ner):
    status, health = app("/health")
    assert status == 200 and health["status"] == "ok" and health["task"] == "ner" and health["backend"] == "torch"
    assert health["model"] == trained_ner.name  # the folder's name, not where it lives on the server
    assert "code points" in health["offsets"]
    assert health["limits"]["max_texts"] == 5
    assert app("/nowhere") == (404, {"error": "GET /nowhere: Not Found"})
    assert app("/predict", method="GET")[0] == 405


@pytest.mark.slow
@pytest.mark.chromium
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
@pytest.mark.chromium
def test_a_classifier_page_shows_the_label(trained_pairs):
    from tunekit.programs.serve import make_app

    with serving(make_app(str(trained_pairs), backend="onnxruntime")) as url:
        status, results = call(url + "/predict", [["a good film", "a fine film"], ["a dull plot", "great actors"]])
        assert status == 200 and [r["text_pair"] for r in results] == ["a fine film", "great actors"]
        assert call(url + "/predict", [["a", "b"], "c"])[1]["error"] == "either every item or no item gives a text_pair"
        query = urllib.parse.urlencode({"text": "a good film", "text_pair": "a fine film"})
        page = rendered(f"{url}/?{query}")
    assert f'<strong id="label">{results[0]["label"]}</strong>' in page


@pytest.mark.slow
@pytest.mark.chromium
def test_the_page_highlights_exactly_the_entity_text_after_emoji_combining_marks_and_right_to_left_text(trained_ner):
    """Offsets count code points; the page slices code points, so an emoji (two UTF-16 units) before an entity
    does not shift its highlight."""
    from tunekit.programs.serve import make_app

    text = "Zoe\u0301 said \u05e9\u05dc\u05d5\u05dd 😀👍🏽🇳🇴 : " + TEXTS[0] + " 😀"
    with serving(make_app(str(trained_ner))) as url:
        status, results = call(url + "/predict", [text])
        page = rendered(f"{url}/?{urllib.parse.urlencode({'text': text})}")
    entities = results[0]["entities"]
    assert status == 200 and entities, "the trained model finds the entities of a training sentence"
    assert any(entity["start"] > text.index("😀") for entity in entities)  # after the emoji, where UTF-16 shifts
    for entity in entities:
        assert text[entity["start"]:entity["end"]] == entity["text"]
        assert (f'<mark class="entity {entity["type"]}" title="{entity["type"]} {entity["score"]:.3f}" '
                f'data-type="{entity["type"]}">{entity["text"]}<span class="type">{entity["type"]}</span></mark>') in page


def same_entities(first: list, second: list) -> bool:
    """The same records and entities, their scores equal to 1e-5."""
    def without_scores(records):
        return [dict(record, entities=[{key: value for key, value in entity.items() if key != "score"}
                                       for entity in record["entities"]]) for record in records]

    def scores(records):
        return [entity["score"] for record in records for entity in record["entities"]]

    return without_scores(first) == without_scores(second) and scores(first) == pytest.approx(scores(second), abs=1e-5)


def test_long_texts_are_cut_at_sentence_ends_and_give_the_entities_of_the_whole_text(trained_ner):
    from starlette.testclient import TestClient

    from tunekit.inference.predictor import predicted_records
    from tunekit.programs.predict import load_predictor
    from tunekit.serving.pieces import sentence_cuts
    from tunekit.programs.serve import make_app

    text = " ".join([TEXTS[0], TEXTS[1], "Mr. Kofi Annan met Anna in Oslo .", TEXTS[3]] * 3)
    cuts = sentence_cuts(text, 100)
    assert len(cuts) > 4 and all(text[cut - 1] == " " for cut in cuts[1:])
    predictor = load_predictor(str(trained_ner))
    whole = predicted_records(predictor, [text, TEXTS[0]], None)
    assert whole[0]["entities"]
    with TestClient(make_app(str(trained_ner), max_batch_characters=100)) as client:
        response = client.post("/predict", json=[text, TEXTS[0]])
    # the same entities; a score may differ in its last bits, as the slices are batched with other lengths
    assert response.status_code == 200 and same_entities(response.json(), whole)
