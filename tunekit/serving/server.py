"""Serve a trained folder over HTTP (what scripts/serve.sh runs), on Starlette and uvicorn.

    POST /predict   a JSON list of texts (strings, {"text", "text_pair"} objects or [text, pair] lists) -> a JSON list
                    of what predict.sh writes for each: entities, or label and probabilities
    GET  /health    status, task, backend, model folder, limits and batching counts
    GET  /          a page to type a text and see the entities highlighted (or the labels)

Requests share the model fairly (batcher.py): those arriving together are predicted in one call, and a long one is
cut into slices that interleave with short ones. Every error is JSON {"error": "..."}: 4xx naming the item and the
problem when the request is at fault, 5xx when the server is; a bad text fails only its own request. Slow clients
are cut off (header, body and idle timeouts), the body's size is checked while it is read, and on a loopback
address only loopback Host names are served (guards.py).

    python -m tunekit.serving.server outputs/ner_sample --port 8000 [--backend onnxruntime] [--quantize int8]
"""

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import time

from tunekit.errors import UserError, exits_cleanly_on_user_errors
from tunekit.inference.predict import OneLineErrors, load_predictor, predicted_records
from tunekit.serving.batcher import RequestBatcher
from tunekit.serving.page import render_page
from tunekit.serving.pieces import joined_records, split_texts
from tunekit.serving.guards import LOOPBACK_NAMES, HostCheck, is_loopback, read_body
from tunekit.serving.requests import OFFSETS, Limits, RequestError, parse_request

logger = logging.getLogger("tunekit.serving")


def parse(argv: list) -> 'argparse.Namespace':
    parser = OneLineErrors(prog="serve", description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("model_dir", help="an output folder of run_ner.py or run_glue.py")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--backend", choices=("torch", "onnxruntime"), default="torch")
    parser.add_argument("--quantize", choices=("none", "int8"), default="none",
                        help="int8: the folder's checked int8 graph (made by eval.sh --quantize int8); implies onnxruntime")
    parser.add_argument("--max_texts", type=int, default=64, help="most texts in one request")
    parser.add_argument("--max_text_length", type=int, default=10000, help="most characters in one text (or pair)")
    parser.add_argument("--max_batch_texts", type=int, default=128, help="most texts predicted in one model call")
    parser.add_argument("--max_batch_characters", type=int, default=2000,
                        help="most characters in one model call past its first text: a long request is predicted in "
                             "slices of this size, interleaved with the requests that arrive meanwhile")
    parser.add_argument("--batch_wait_ms", type=float, default=5.0,
                        help="how long an idle server waits for more requests after the first before predicting")
    parser.add_argument("--batch_size", type=int, default=32, help="rows the model reads at once")
    parser.add_argument("--max_seq_length", type=int, default=None, help="default: the length used in training")
    parser.add_argument("--header_timeout", type=float, default=10.0,
                        help="seconds a client has to send a request's headers before the connection is closed")
    parser.add_argument("--body_timeout", type=float, default=30.0, help="seconds a client has to send a request's body")
    parser.add_argument("--idle_timeout", type=int, default=5,
                        help="seconds an idle keep-alive connection stays open between requests")
    parser.add_argument("--allowed_host", action="append", default=None,
                        help="a Host header to accept (repeat for several; default on a loopback address: 127.0.0.1, "
                             "localhost and [::1] with any port, against DNS rebinding; elsewhere: any)")
    args = parser.parse_args(argv)
    for name in ("max_texts", "max_text_length", "max_batch_texts", "max_batch_characters", "batch_size",
                 "idle_timeout"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name} must be 1 or more, not {getattr(args, name)}")
    for name in ("batch_wait_ms", "header_timeout", "body_timeout"):
        if getattr(args, name) < 0 or (name != "batch_wait_ms" and getattr(args, name) == 0):
            raise UserError(f"--{name} must be more than zero" + (" or zero" if name == "batch_wait_ms" else ""))
    if not 0 < args.port < 65536:
        raise UserError(f"--port must be between 1 and 65535, not {args.port}")
    return args


def error(status: int, message: str) -> 'starlette.responses.JSONResponse':
    """Every error of the API: {"error": message}, with a 4xx status for the client's fault, 5xx for the server's.
    After a body that was too slow or too large the connection is closed: the rest of the body is never read."""
    from starlette.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status,
                        headers={"connection": "close"} if status in (408, 413) else None)


def make_app(model_dir: str, backend: str = "torch", quantize: str = "none", limits: Limits | None = None,
             max_batch_texts: int = 128, batch_wait_ms: float = 5.0, batch_size: int = 32,
             max_seq_length=None, max_batch_characters: int = 2000, body_timeout: float = 30.0,
             allowed_hosts: list | None = None) -> 'starlette.applications.Starlette':
    """The Starlette application serving the folder (the model is loaded here, before the first request).
    allowed_hosts: Host header names accepted (None: any)."""
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    limits = limits or Limits()
    task, predictor = load_predictor(model_dir, max_seq_length, batch_size, backend, quantize)
    pairs_allowed = task != "ner"
    cut_long_texts = task == "ner" and not predictor.context
    batcher = RequestBatcher(lambda texts, pairs: predicted_records(task, predictor, texts, pairs),
                             max_batch_texts, batch_wait_ms / 1000, max_batch_characters)
    engine = "onnxruntime int8" if quantize == "int8" else backend
    name = os.path.basename(os.path.abspath(model_dir))
    labels = sorted({label.partition("-")[2] or label for label in predictor.id2label.values()} - {"O"})
    kind = "entities" if task == "ner" else "labels"
    page = render_page(name, f"{'NER' if task == 'ner' else 'Classification'} model {name} ({engine}); {kind}: "
                             f"{', '.join(labels)}", task, pairs_allowed)
    started = time.time()

    async def predict(request):
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            return error(415, f"send the texts as JSON with Content-Type: application/json, not "
                              f"{kind or 'no Content-Type'}")
        try:
            body = await read_body(request, limits.max_body_bytes, body_timeout)
            texts, pairs = parse_request(body, limits, pairs_allowed)
        except RequestError as problem:
            return error(problem.status, problem.message)
        if not texts:
            return JSONResponse([])
        if cut_long_texts:  # sentences of long texts interleave with other requests, giving the same entities
            # a thread: splitting 64 long texts takes a while of pure Python, which must not stall the event loop
            pieces, plan = await asyncio.to_thread(split_texts, texts, max_batch_characters)
            records = joined_records(texts, await batcher.submit(pieces, None), plan)
        else:
            records = await batcher.submit(texts, pairs)
        failed = [number for number, record in enumerate(records) if "error" in record]
        if failed:  # the model failed on a text the checks let through: the server's fault, logged with its traceback
            return error(500, f"item {failed[0]}: {records[failed[0]]['error']}")
        return JSONResponse(records)

    async def health(request):
        return JSONResponse({
            "status": "ok", "task": task, "backend": engine, "model": name,
            "uptime_seconds": round(time.time() - started, 1),
            "limits": {"max_texts": limits.max_texts, "max_text_length": limits.max_text_length,
                       "max_body_bytes": limits.max_body_bytes, "max_batch_texts": max_batch_texts,
                       "max_batch_characters": max_batch_characters, "batch_wait_ms": batch_wait_ms},
            "offsets": OFFSETS,
            "served": batcher.statistics.summary(),
        })

    async def home(request):
        return HTMLResponse(page)

    async def http_error(request, problem):  # 404, 405 ... as JSON like every other error of the API
        return error(problem.status_code, f"{request.method} {request.url.path}: {problem.detail}")

    async def server_error(request, problem):  # anything unforeseen: JSON, the traceback in the log
        logger.error("%s %s failed", request.method, request.url.path, exc_info=problem)
        return error(500, f"internal error ({type(problem).__name__}); the server log has the details")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        batcher.start()
        yield
        await batcher.stop()

    routes = [Route("/predict", predict, methods=["POST"]), Route("/health", health, methods=["GET"]),
              Route("/", home, methods=["GET"])]
    middleware = [Middleware(HostCheck, allowed=allowed_hosts)] if allowed_hosts else []
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                     exception_handlers={HTTPException: http_error, Exception: server_error})


def main(argv: list | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    import uvicorn

    from tunekit.serving.protocol import guarded_protocol

    allowed = args.allowed_host or (LOOPBACK_NAMES if is_loopback(args.host) else None)
    app = make_app(args.model_dir, args.backend, args.quantize, Limits(args.max_texts, args.max_text_length),
                   args.max_batch_texts, args.batch_wait_ms, args.batch_size, args.max_seq_length,
                   args.max_batch_characters, args.body_timeout, allowed)
    print(f"Serving {args.model_dir} at http://{args.host}:{args.port}/ (POST /predict, GET /health)",
          file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", http=guarded_protocol(args.header_timeout),
                timeout_keep_alive=args.idle_timeout)
    return 0


if __name__ == "__main__":
    sys.exit(exits_cleanly_on_user_errors(main)())
