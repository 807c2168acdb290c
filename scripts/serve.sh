#!/bin/sh
# Serve a trained folder over HTTP: POST /predict (a JSON list of texts), GET /health, a page to try it at /.
#   sh scripts/serve.sh <task_output> [--port 8000] [--host 127.0.0.1] [--backend onnxruntime] [--quantize int8]
set -eu
if [ "$#" -lt 1 ]; then
    echo "usage: sh scripts/serve.sh <task_output> [--port N] [--host ADDRESS] [flags...]" >&2
    exit 2
fi
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
. "$ROOT/scripts/find_python.sh"
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" exec "$PYTHON" -m tunekit.programs.serve "$@"
