#!/bin/sh
# Fine-tune and write everything into <task_output>:
#   sh scripts/train.sh <task_output> [ner|glue] [flags for run_ner.py / run_glue.py]
# The task registry decides: a task word first (ner, glue), else the task whose --task_name was given (the GLUE
# tasks are classification's), else NER. Without data flags, NER trains on the bundled sample (data/ner_sample).
# The offline MiniLM is the default model. A test split in the data is predicted too (as eval.sh does).
# Flags given here come last and so override the defaults below.
# Works from any working directory; set PYTHON to choose the interpreter.
# Several processes / GPUs / machines: ACCELERATE_CONFIG=<name in scripts/accelerate/ or a path> runs it under
# `accelerate launch --config_file ...`; LAUNCHER="torchrun --nproc_per_node 4" runs it under any launcher.
set -eu
if [ "$#" -lt 1 ]; then
    echo "usage: sh scripts/train.sh <task_output> [ner|glue] [flags...]" >&2
    exit 2
fi
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
OUTPUT=$1
shift
. "$ROOT/scripts/find_python.sh"

# The task, its defaults and the launcher come from the task registry (tunekit/programs/train_script.py).
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" exec "$PYTHON" -m tunekit.programs.train_script "$ROOT" "$OUTPUT" "$@"
