"""The HTTP application around a predictor (programs/serve.py runs it with uvicorn), on Starlette.

    POST /predict   a JSON list of texts (strings, {"text", "text_pair"} objects or [text, pair] lists) -> a JSON list
                    of what predict.sh writes for each: entities, or label and probabilities
    GET  /health    status, task, backend, model folder, limits and batching counts
    GET  /          a page to type a text and see the entities highlighted (or the labels)

Requests share the model fairly (batcher.py): those arriving together are predicted in one call, and a long one is
cut into slices that interleave with short ones. Every error is JSON {"error": "..."}: 4xx naming the item and the
problem when the request is at fault, 5xx when the server is; a bad text fails only its own request. Slow clients
are cut off (header, body and idle timeouts), the body's size is checked while it is read, and on a loopback
address only loopback Host names are served (guards.py).
"""

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from tunekit.inference.predictor import Predictor, predicted_records
from tunekit.serving.batcher import RequestBatcher
from tunekit.serving.guards import HostCheck, read_body
from tunekit.serving.page import render_page
from tunekit.serving.pieces import joined_records, split_texts
from tunekit.serving.requests import OFFSETS, Limits, RequestError, parse_request

if TYPE_CHECKING:
    import starlette.applications
    import starlette.responses

logger = logging.getLogger("tunekit.serving")


def error(status: int, message: str) -> 'starlette.responses.JSONResponse':
    """Every error of the API: {"error": message}, with a 4xx status for the client's fault, 5xx for the server's.
    After a body that was too slow or too large the connection is closed: the rest of the body is never read."""
    from starlette.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status,
                        headers={"connection": "close"} if status in (408, 413) else None)


def make_app(predictor: Predictor, task_name: str, name: str, engine: str, limits: Limits | None = None,
             max_batch_texts: int = 128, batch_wait_ms: float = 5.0, max_batch_characters: int = 2000,
             body_timeout: float = 30.0, allowed_hosts: list | None = None) -> 'starlette.applications.Starlette':
    """The Starlette application serving a predictor (of a `task_name` model folder called `name`, run by `engine`).
    allowed_hosts: Host header names accepted (None: any)."""
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.middleware import Middleware
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    limits = limits or Limits()
    pairs_allowed = predictor.accepts_pairs
    batcher = RequestBatcher(lambda texts, pairs: predicted_records(predictor, texts, pairs),
                             max_batch_texts, batch_wait_ms / 1000, max_batch_characters)
    page = render_page(name, f"{predictor.title} {name} ({engine}); {predictor.shows}: {', '.join(predictor.labels)}",
                       predictor.shows, pairs_allowed)
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
        if predictor.cuts_at_sentences:  # sentences of long texts interleave with other requests, giving the same entities
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
            "status": "ok", "task": task_name, "backend": engine, "model": name,
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


