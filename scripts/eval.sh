#!/bin/sh
# Evaluate a trained output folder on its dev and test data, without training, writing results into it:
#   sh scripts/eval.sh <task_output> [flags]
set -eu
if [ "$#" -lt 1 ]; then
    echo "usage: sh scripts/eval.sh <task_output> [flags...]" >&2
    exit 2
fi
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
. "$ROOT/scripts/find_python.sh"
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" exec "$PYTHON" -m tunekit.programs.evaluate "$@"
