#!/bin/sh
# Predict raw text with a trained folder: JSON lines out, one per input text, in input order.
#   sh scripts/predict.sh <task_output> [--input texts.txt|texts.jsonl] [--output results.jsonl]
#   echo "Anna Brandt visited Oslo." | sh scripts/predict.sh <task_output>
set -eu
if [ "$#" -lt 1 ]; then
    echo "usage: sh scripts/predict.sh <task_output> [--input FILE] [--output FILE]" >&2
    exit 2
fi
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
. "$ROOT/scripts/find_python.sh"
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" exec "$PYTHON" -m tunekit.programs.predict "$@"
