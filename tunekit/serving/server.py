"""Serve a trained folder over HTTP (what scripts/serve.sh runs), on Starlette and uvicorn.

    POST /predict   a JSON list of texts (strings, {"text", "text_pair"} objects or [text, pair] lists) -> a JSON list
                    of what predict.sh writes for each: entities, or label and probabilities
    GET  /health    status, task, backend, model folder, limits and batching counts
    GET  /          a page to type a text and see the entities highlighted (or the labels)

Requests arriving together are predicted in one batch (batcher.py). A bad request gets a 4xx JSON
{"error": "..."} naming the problem, and the server keeps serving.

    python -m tunekit.serving.server outputs/ner_sample --port 8000 [--backend onnxruntime] [--quantize int8]
"""

import argparse
import contextlib
import logging
import os
import sys
import time

from tunekit.errors import UserError, exits_cleanly_on_user_errors
from tunekit.inference.predict import OneLineErrors, load_predictor, predicted_records
from tunekit.serving.batcher import RequestBatcher
from tunekit.serving.page import render_page
from tunekit.serving.requests import Limits, RequestError, parse_request

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
    parser.add_argument("--max_batch_texts", type=int, default=128, help="most texts predicted in one batch")
    parser.add_argument("--batch_wait_ms", type=float, default=5.0,
                        help="how long a batch waits for more requests after its first one")
    parser.add_argument("--batch_size", type=int, default=32, help="rows the model reads at once")
    parser.add_argument("--max_seq_length", type=int, default=None, help="default: the length used in training")
    args = parser.parse_args(argv)
    for name in ("max_texts", "max_text_length", "max_batch_texts", "batch_size"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name} must be 1 or more, not {getattr(args, name)}")
    if args.batch_wait_ms < 0:
        raise UserError("--batch_wait_ms must be zero or more")
    if not 0 < args.port < 65536:
        raise UserError(f"--port must be between 1 and 65535, not {args.port}")
    return args


def make_app(model_dir: str, backend: str = "torch", quantize: str = "none", limits: Limits | None = None,
             max_batch_texts: int = 128, batch_wait_ms: float = 5.0, batch_size: int = 32,
             max_seq_length=None) -> 'starlette.applications.Starlette':
    """The Starlette application serving the folder (the model is loaded here, before the first request)."""
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    limits = limits or Limits()
    task, predictor = load_predictor(model_dir, max_seq_length, batch_size, backend, quantize)
    pairs_allowed = task != "ner"
    batcher = RequestBatcher(lambda texts, pairs: predicted_records(task, predictor, texts, pairs),
                             max_batch_texts, batch_wait_ms / 1000)
    engine = "onnxruntime int8" if quantize == "int8" else backend
    name = os.path.basename(os.path.abspath(model_dir))
    labels = sorted({label.partition("-")[2] or label for label in predictor.id2label.values()} - {"O"})
    kind = "entities" if task == "ner" else "labels"
    page = render_page(name, f"{'NER' if task == 'ner' else 'Classification'} model {name} ({engine}); {kind}: "
                             f"{', '.join(labels)}", task, pairs_allowed)
    started = time.time()

    async def predict(request):
        body = await request.body()
        try:
            texts, pairs = parse_request(body, limits, pairs_allowed)
        except RequestError as error:
            return JSONResponse({"error": error.message}, status_code=error.status)
        if not texts:
            return JSONResponse([])
        try:
            return JSONResponse(await batcher.submit(texts, pairs))
        except Exception as error:  # noqa: BLE001 - the request fails, the server goes on
            logger.exception("prediction failed")
            return JSONResponse({"error": f"prediction failed: {error}"}, status_code=500)

    async def health(request):
        return JSONResponse({
            "status": "ok", "task": task, "backend": engine, "model": os.path.abspath(model_dir),
            "uptime_seconds": round(time.time() - started, 1),
            "limits": {"max_texts": limits.max_texts, "max_text_length": limits.max_text_length,
                       "max_batch_texts": max_batch_texts, "batch_wait_ms": batch_wait_ms},
            "served": batcher.statistics.summary(),
        })

    async def home(request):
        return HTMLResponse(page)

    async def http_error(request, error):  # 404, 405 ... as JSON like every other error of the API
        return JSONResponse({"error": f"{request.method} {request.url.path}: {error.detail}"},
                            status_code=error.status_code)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        batcher.start()
        yield
        await batcher.stop()

    routes = [Route("/predict", predict, methods=["POST"]), Route("/health", health, methods=["GET"]),
              Route("/", home, methods=["GET"])]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error}, lifespan=lifespan)


def main(argv: list | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    import uvicorn

    app = make_app(args.model_dir, args.backend, args.quantize, Limits(args.max_texts, args.max_text_length),
                   args.max_batch_texts, args.batch_wait_ms, args.batch_size, args.max_seq_length)
    print(f"Serving {args.model_dir} at http://{args.host}:{args.port}/ (POST /predict, GET /health)",
          file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(exits_cleanly_on_user_errors(main)())
