"""Predict raw text with a folder written by run_ner.py or run_glue.py (what scripts/predict.sh runs).

Input: standard input or --input FILE, either one text per line (.txt) or JSON lines with a "text" field
(and "text_pair" for sentence pairs). Output: JSON lines, one per input in input order, to standard
output or --output FILE. NER gives entity spans with type, character offsets, text and score;
classification gives the label and the class probabilities.

    python -m tunekit.programs.predict outputs/ner_sample --input texts.txt --output entities.jsonl
    echo "Anna Brandt visited Oslo." | sh scripts/predict.sh outputs/ner_sample
"""

import argparse
import itertools
import json
import os
import sys
from typing import TYPE_CHECKING, Iterator

from tunekit import tasks
from tunekit.errors import OneLineErrors, UserError, exits_cleanly_on_user_errors
from tunekit.data.readers.lines import check_readable
from tunekit.folder import RUN_ARGUMENTS_FILE, OutputFolder
from tunekit.folder_lock import check_not_training
from tunekit.backends import BACKENDS, QUANTIZATIONS
from tunekit.inference.inputs import InputLine, input_records
from tunekit.inference.predictor import Predictor, PredictorOptions, predicted_records
from tunekit.inference.progress import Progress
from tunekit.inference.resumable_output import Resumed, ResumableOutput, checked_output

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
    check_not_training(model_dir)
    facts = folder.facts()
    if "task" not in facts:
        raise UserError(f"{model_dir}: not an output folder of run_ner.py or run_glue.py (no {RUN_ARGUMENTS_FILE})")
    return tasks.of_folder(facts)


def load_predictor(model_dir: str, options: PredictorOptions = PredictorOptions()) -> Predictor:
    """The predictor of a saved folder's task, with the settings it was trained with, run by the chosen backend."""
    return saved_task(model_dir).predictor(model_dir, options)


def main(argv: list | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.input is not None:  # both paths are checked before the model loads
        check_readable(args.input)
    if args.output:
        checked_output(args.output, args.input)
    predictor = load_predictor(args.model_dir, PredictorOptions(args.max_seq_length, args.batch_size, args.backend,
                                                                args.quantize))
    chunk = TEXTS_PER_BATCH_IN_A_CHUNK * args.batch_size
    options = {"batch_size": args.batch_size, "max_seq_length": args.max_seq_length, "backend": args.backend,
               "quantize": args.quantize}
    output = ResumableOutput(args.output, ResumableOutput.command_of(args.model_dir, args.input, options), chunk) \
        if args.output else None
    resumed = output.resumed if output is not None else Resumed()
    if resumed.lines:
        print(f"{args.output}: {resumed.lines:,} lines were answered by an earlier run of this command; "
              "continuing after them", file=sys.stderr, flush=True)
    progress = Progress(counted_lines(args.input), resumed.lines) if args.input and not args.quiet else None
    answered, failed, first_error = resumed.lines, resumed.failed, resumed.first_error
    try:
        for lines in chunks(itertools.islice(input_records(args.input), resumed.lines, None), chunk):
            records = answer_records(predictor, lines)
            answers = [json.dumps(record, ensure_ascii=False) + "\n" for record in records]
            if output is not None:
                output.write(answers)
            else:
                sys.stdout.write("".join(answers))
                sys.stdout.flush()
            for line, record in zip(lines, records):
                if "error" in record:
                    failed += 1
                    first_error = first_error or line.problem or f"input line {line.number}: {record['error']}"
            answered += len(lines)
            if progress is not None:
                progress.advance(len(lines))
    except KeyboardInterrupt:
        if output is not None:
            output.close()
        raise UserError(f"interrupted after {answered:,} answered lines"
                        + (f"; the same command continues after the last complete chunk ({args.output})"
                           if args.output and args.input else "")) from None
    if progress is not None:
        progress.close()
    if output is not None:
        output.finish()
    if failed:  # every other line is answered; the exit status says that some were not
        raise UserError(f"{failed} of {answered} inputs could not be predicted; their output lines hold "
                        f"an error record in their place (first: {first_error})")
    return 0


# Texts predicted together: enough batches for length-sorted batching to pay, few enough for memory to stay flat.
# A rerun keeps whole chunks only, so the same texts meet in the same batches and give the same bytes.
TEXTS_PER_BATCH_IN_A_CHUNK = 64


def chunks(lines: 'Iterator[InputLine]', size: int) -> 'Iterator[list[InputLine]]':
    while True:
        chunk = list(itertools.islice(lines, size))
        if not chunk:
            return
        yield chunk


def answer_records(predictor: Predictor, lines: list) -> list:
    """The record answering each input line: its prediction, or an error record for a line that cannot be read."""
    readable = [line for line in lines if line.problem is None]
    pairs = [line.pair for line in readable]
    records = iter(predicted_records(predictor, [line.text for line in readable],
                                     pairs if any(pair is not None for pair in pairs) else None))
    return [next(records) if line.problem is None else {"line": line.number, "error": line.problem} for line in lines]


def counted_lines(path: str) -> int:
    """About how many lines a file has (line ends counted), for the time left."""
    count, last = 0, b"\n"
    with open(path, "rb") as stream:
        while block := stream.read(1 << 20):
            count, last = count + block.count(b"\n"), block[-1:]
    return count + (last != b"\n")


if __name__ == "__main__":
    sys.exit(exits_cleanly_on_user_errors(main)())
