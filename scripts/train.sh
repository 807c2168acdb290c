#!/bin/sh
# Fine-tune and write everything into <task_output>:
#   sh scripts/train.sh <task_output> [flags for run_ner.py]
# Without data flags it trains on the bundled English NER sample (data/ner_sample) with the offline MiniLM.
# Flags given here come last and so override the defaults below. Works from any working directory.
set -eu
if [ "$#" -lt 1 ]; then
    echo "usage: sh scripts/train.sh <task_output> [flags...]" >&2
    exit 2
fi
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
OUTPUT=$1
shift
PYTHON=${PYTHON:-python}

user_data=no
for arg in "$@"; do
    case $arg in
        --data_dir | --data_dir=* | --train_file | --train_file=* | --dataset_name | --dataset_name=*) user_data=yes ;;
    esac
done
if [ "$user_data" = no ]; then
    set -- --data_dir "$ROOT/data/ner_sample" --do_predict "$@"
fi

exec "$PYTHON" "$ROOT/run_ner.py" \
    --output_dir "$OUTPUT" \
    --do_train --do_eval \
    --num_train_epochs 2 \
    --per_device_train_batch_size 32 \
    --per_device_eval_batch_size 64 \
    --learning_rate 5e-5 \
    --max_seq_length 128 \
    --eval_strategy epoch \
    --save_strategy epoch \
    --save_total_limit 2 \
    --logging_steps 50 \
    --report_to none \
    "$@"
