#!/bin/sh
# Fine-tune and write everything into <task_output>:
#   sh scripts/train.sh <task_output> [ner|glue] [flags for run_ner.py / run_glue.py]
# The task is NER unless `glue` is given or --task_name names a GLUE task (cola, sst2, mrpc, qqp, stsb,
# mnli, qnli, rte, wnli). Without data flags, NER trains on the bundled English sample (data/ner_sample).
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

TASK=ner
case ${1:-} in
    ner | glue) TASK=$1; shift ;;
esac
user_data=no
previous=
for arg in "$@"; do
    case $arg in
        --data_dir | --data_dir=* | --train_file | --train_file=* | --dataset_name | --dataset_name=* | --corpora | --corpora=*) user_data=yes ;;
        --task_name=cola | --task_name=sst2 | --task_name=mrpc | --task_name=qqp | --task_name=stsb | \
        --task_name=mnli | --task_name=qnli | --task_name=rte | --task_name=wnli) TASK=glue ;;
    esac
    if [ "$previous" = --task_name ]; then
        case $arg in cola | sst2 | mrpc | qqp | stsb | mnli | qnli | rte | wnli) TASK=glue ;; esac
    fi
    previous=$arg
done

if [ "$TASK" = ner ]; then
    SCRIPT=run_ner.py
    EPOCHS=2
    if [ "$user_data" = no ]; then
        set -- --data_dir "$ROOT/data/ner_sample" "$@"
    fi
else
    SCRIPT=run_glue.py
    EPOCHS=3
fi

if [ -n "${ACCELERATE_CONFIG:-}" ]; then
    case $ACCELERATE_CONFIG in
        */* | *.yaml) CONFIG=$ACCELERATE_CONFIG ;;
        *) CONFIG=$ROOT/scripts/accelerate/$ACCELERATE_CONFIG.yaml ;;
    esac
    LAUNCHER="accelerate launch --config_file $CONFIG"
fi
set -- \
    --output_dir "$OUTPUT" \
    --do_train --do_eval \
    --num_train_epochs "$EPOCHS" \
    --per_device_train_batch_size 32 \
    --per_device_eval_batch_size 64 \
    --learning_rate 5e-5 \
    --max_seq_length 128 \
    --eval_strategy epoch \
    --save_strategy epoch \
    --save_total_limit 2 \
    --logging_steps 50 \
    --report_to none \
    --predict_if_test_data \
    "$@"
if [ -n "${LAUNCHER:-}" ]; then
    exec $LAUNCHER "$ROOT/$SCRIPT" "$@"
fi
exec "$PYTHON" "$ROOT/$SCRIPT" "$@"
