"""Serve a trained folder over HTTP (what scripts/serve.sh runs), on Starlette and uvicorn.

The flags, the folder's predictor (its task's), and uvicorn with the header deadline; the API and its guards are
serving/app.py's.

    python -m tunekit.programs.serve outputs/ner_sample --port 8000 [--backend onnxruntime] [--quantize int8]
"""

import argparse
import sys
from typing import TYPE_CHECKING

from tunekit.backends import BACKENDS, QUANTIZATIONS, backend_for
from tunekit.errors import OneLineErrors, UserError, exits_cleanly_on_user_errors
from tunekit.folder import OutputFolder
from tunekit.inference.predictor import PredictorOptions
from tunekit.programs.predict import saved_task
from tunekit.serving.guards import LOOPBACK_NAMES, is_loopback
from tunekit.serving.requests import Limits

if TYPE_CHECKING:
    import starlette.applications
    import starlette.responses


def parse(argv: list) -> 'argparse.Namespace':
    parser = OneLineErrors(prog="serve", description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("model_dir", help="an output folder of run_ner.py or run_glue.py")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--backend", choices=tuple(BACKENDS), default="torch")
    parser.add_argument("--quantize", choices=QUANTIZATIONS, default="none",
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


def make_app(model_dir: str, backend: str = "torch", quantize: str = "none", limits: Limits | None = None,
             max_batch_texts: int = 128, batch_wait_ms: float = 5.0, batch_size: int = 32,
             max_seq_length: int | None = None, max_batch_characters: int = 2000, body_timeout: float = 30.0,
             allowed_hosts: list | None = None) -> 'starlette.applications.Starlette':
    """The application serving a saved folder: its task's predictor (loaded here, before the first request) in
    serving/app.py's server. allowed_hosts: Host header names accepted (None: any)."""
    from tunekit.serving import app

    task = saved_task(model_dir)
    predictor = task.predictor(model_dir, PredictorOptions(max_seq_length, batch_size, backend, quantize))
    engine = backend_for(backend, quantize) + (" int8" if quantize == "int8" else "")
    return app.make_app(predictor, task.name, OutputFolder(model_dir).name, engine, limits, max_batch_texts,
                        batch_wait_ms, max_batch_characters, body_timeout, allowed_hosts)


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
