"""Predict raw text with a folder written by run_ner.py or run_glue.py (what scripts/predict.sh runs).

Input: standard input or --input FILE, either one text per line (.txt) or JSON lines with a "text" field
(and "text_pair" for sentence pairs). Output: JSON lines, one per input in input order, to standard
output or --output FILE. NER gives entity spans with type, character offsets, text and score;
classification gives the label and the class probabilities.

    python -m tunekit.programs.predict outputs/ner_sample --input texts.txt --output entities.jsonl
    echo "Anna Brandt visited Oslo." | sh scripts/predict.sh outputs/ner_sample
"""

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

from tunekit import tasks
from tunekit.errors import OneLineErrors, UserError, exits_cleanly_on_user_errors
from tunekit.files import atomic_write
from tunekit.folder import RUN_ARGUMENTS_FILE, OutputFolder
from tunekit.backends import BACKENDS, QUANTIZATIONS
from tunekit.inference.inputs import read_inputs
from tunekit.inference.predictor import Predictor, PredictorOptions, predicted_records

if TYPE_CHECKING:
    from tunekit.tasks.base import Task


def parse(argv: list) -> 'argparse.Namespace':
    parser = OneLineErrors(prog="predict", description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("model_dir", help="an output folder of run_ner.py or run_glue.py")
    parser.add_argument("--input", help="a .txt file (one text per line) or JSON lines; default: standard input")
    parser.add_argument("--output", help="where to write JSON lines; default: standard output")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--max_seq_length", type=int, default=None, help="default: the length used in training")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--backend", choices=tuple(BACKENDS), default="torch",
                        help="torch, or onnxruntime: the folder's ONNX graph (exported on first use into <folder>/onnx/)")
    parser.add_argument("--quantize", choices=QUANTIZATIONS, default="none",
                        help="int8: the folder's checked int8 graph (made by eval.sh --quantize int8); implies onnxruntime")
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        raise UserError(f"--batch_size must be 1 or more, not {args.batch_size}")
    return args


def saved_task(model_dir: str) -> "Task":
    """The task of a saved model folder, or a one-line error for a folder that is not one."""
    folder = OutputFolder(model_dir)
    if not os.path.isfile(folder.model_config):
        raise UserError(f"{model_dir}: not a model folder (no config.json)")
    facts = folder.facts()
    if "task" not in facts:
        raise UserError(f"{model_dir}: not an output folder of run_ner.py or run_glue.py (no {RUN_ARGUMENTS_FILE})")
    return tasks.of_folder(facts)


def load_predictor(model_dir: str, options: PredictorOptions = PredictorOptions()) -> Predictor:
    """The predictor of a saved folder's task, with the settings it was trained with, run by the chosen backend."""
    return saved_task(model_dir).predictor(model_dir, options)


def main(argv: list | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    inputs = read_inputs(args.input)
    predictor = load_predictor(args.model_dir, PredictorOptions(args.max_seq_length, args.batch_size, args.backend,
                                                                args.quantize))
    progress = None
    if args.input and not args.quiet:
        from tqdm.auto import tqdm

        progress = tqdm(desc="Predicting", unit="window", file=sys.stderr)
    readable = [i for i in range(len(inputs.texts)) if i not in inputs.problems]
    predicted = predicted_records(predictor, [inputs.texts[i] for i in readable],
                                  [inputs.pairs[i] for i in readable] if inputs.pairs else None, progress)
    if progress is not None:
        progress.close()
    results = dict(zip(readable, predicted))
    results.update({i: {"line": i + 1, "error": problem} for i, problem in inputs.problems.items()})
    lines = "".join(json.dumps(results[i], ensure_ascii=False) + "\n" for i in range(len(inputs.texts)))
    if args.output:
        atomic_write(args.output, lines)
    else:
        sys.stdout.write(lines)
    failed = [i for i in range(len(inputs.texts)) if "error" in results[i]]
    if failed:  # every other line is answered; the exit status says that some were not
        first = inputs.problems.get(failed[0]) or f"input line {failed[0] + 1}: {results[failed[0]]['error']}"
        raise UserError(f"{len(failed)} of {len(inputs.texts)} inputs could not be predicted; their output lines hold "
                        f"an error record in their place (first: {first})")
    return 0


if __name__ == "__main__":
    sys.exit(exits_cleanly_on_user_errors(main)())
