"""Predict raw text with a folder written by run_ner.py or run_glue.py (what scripts/predict.sh runs).

Input: standard input or --input FILE, either one text per line (.txt) or JSON lines with a "text" field
(and "text_pair" for sentence pairs). Output: JSON lines, one per input in input order, to standard
output or --output FILE. NER gives entity spans with type, character offsets, text and score;
classification gives the label and the class probabilities.

    python -m tunekit.inference.predict outputs/ner_sample --input texts.txt --output entities.jsonl
    echo "Anna Brandt visited Oslo." | sh scripts/predict.sh outputs/ner_sample
"""

import argparse
import json
import os
import sys

from tunekit.errors import UserError, at, exits_cleanly_on_user_errors
from tunekit.outputs.files import atomic_write
from tunekit.data.readers.lines import decoded_lines, read_lines

TEXT_FIELDS = ("text", "sentence", "sentence1", "text_a", "question")
PAIR_FIELDS = ("text_pair", "sentence2", "text_b")


class OneLineErrors(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints its usage and exits; one line instead
        raise UserError(f"{message} (see --help)")


def parse(argv: list) -> 'argparse.Namespace':
    parser = OneLineErrors(prog="predict", description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("model_dir", help="an output folder of run_ner.py or run_glue.py")
    parser.add_argument("--input", help="a .txt file (one text per line) or JSON lines; default: standard input")
    parser.add_argument("--output", help="where to write JSON lines; default: standard output")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--max_seq_length", type=int, default=None, help="default: the length used in training")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--backend", choices=("torch", "onnxruntime"), default="torch",
                        help="torch, or onnxruntime: the folder's ONNX graph (exported on first use into <folder>/onnx/)")
    parser.add_argument("--quantize", choices=("none", "int8"), default="none",
                        help="int8: the folder's checked int8 graph (made by eval.sh --quantize int8); implies onnxruntime")
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        raise UserError(f"--batch_size must be 1 or more, not {args.batch_size}")
    return args


def input_lines(path: str) -> list:
    if path is None:  # bytes, decoded as files are: a stray byte is an error naming its line, not a traceback
        return list(decoded_lines(sys.stdin.buffer, "<stdin>"))
    return list(read_lines(path))


def read_inputs(path: str) -> tuple:
    """(texts, pairs or None) from plain lines or JSON lines, one per input line: output line N answers input
    line N, so a blank line is an empty text (with an empty result), never skipped."""
    where = path or "<stdin>"
    lines = input_lines(path)
    filled = [text for _, text in lines if text.strip()]
    as_json = (path or "").endswith((".jsonl", ".json")) or (filled and filled[0].lstrip().startswith("{"))
    if not as_json:
        return [text for _, text in lines], None
    texts, pairs = [], []
    for number, text in lines:
        if not text.strip():
            texts.append("")
            pairs.append(None)
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            raise at(where, number, f"invalid JSON: {error.msg}") from None
        if not isinstance(record, dict):
            raise at(where, number, "a JSON line must be an object")
        field = next((name for name in TEXT_FIELDS if name in record), None)
        if field is None or not isinstance(record[field], str):
            raise at(where, number, f"no text: expected a string field {' or '.join(TEXT_FIELDS)}")
        texts.append(record[field])
        pair = next((record[name] for name in PAIR_FIELDS if name in record), None)
        pairs.append(pair)
    given = [pair is not None for text, pair in zip(texts, pairs) if text]
    if any(given) and not all(given):
        raise at(where, 1, "either every line or no line gives a text_pair")
    return texts, (pairs if any(given) else None)


def load_predictor(model_dir: str, max_seq_length=None, batch_size: int = 32, backend: str = "torch",
                   quantize: str = "none") -> tuple:
    """(task, predictor) for a saved folder, with the settings it was trained with, run by the chosen backend
    (torch, or onnxruntime with the exact or the checked int8 graph)."""
    import transformers
    from transformers import AutoConfig, AutoTokenizer

    from tunekit.inference.backend import runtime_model
    from tunekit.evaluation.thresholds import saved_thresholds
    from tunekit.inference.classification import ClassificationPredictor
    from tunekit.training.run_folder import saved_run_facts
    from tunekit.modeling.loading import model_max_length
    from tunekit.inference.ner import NerPredictor

    if not os.path.isfile(os.path.join(model_dir, "config.json")):
        raise UserError(f"{model_dir}: not a model folder (no config.json)")
    transformers.utils.logging.disable_progress_bar()  # the prediction bar is ours; no "Loading weights" bar
    settings = saved_run_facts(model_dir).get("data", {})
    config = AutoConfig.from_pretrained(model_dir)
    is_ner = any(name.endswith("ForTokenClassification") for name in config.architectures or [])
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    length = model_max_length(tokenizer, config, max_seq_length or settings.get("max_seq_length"))
    if is_ner:
        from tunekit.modeling.taggers import saved_tagger_class

        model = runtime_model(saved_tagger_class(config).from_pretrained(model_dir), tokenizer, model_dir, backend, quantize)
        # a text is a document: a model trained with --document_context reads it with the same context
        context, mode = settings.get("document_context") or 0, settings.get("document_context_mode", "windows")
        return "ner", NerPredictor(model, tokenizer, length, settings.get("stride", 32), batch_size, context, mode)
    from tunekit.modeling.pooling import saved_classifier_class

    model = runtime_model(saved_classifier_class(config).from_pretrained(model_dir), tokenizer, model_dir, backend, quantize)
    names = [config.id2label[i] for i in range(config.num_labels)]
    thresholds = saved_thresholds(model_dir, names) if config.problem_type == "multi_label_classification" else None
    return "classification", ClassificationPredictor(model, tokenizer, length, settings, batch_size, thresholds)


def classify_filled(predictor, texts, pairs, progress) -> list:
    """The predictor's result for every text that is not blank; a blank line gets an empty result."""
    filled = [i for i, text in enumerate(texts) if text.strip()]
    predicted = predictor.predict([texts[i] for i in filled], [pairs[i] for i in filled] if pairs else None, progress)
    results = [{"label": None, "probabilities": {}} for _ in texts]
    for index, prediction in zip(filled, predicted):
        results[index] = prediction
    return results


def predicted_records(task: str, predictor, texts: list, pairs: list | None, progress=None) -> list:
    """One record per text, as predict.sh writes them (and the server returns them): the text (and its pair) with
    its entities, or with its label and probabilities."""
    if task == "ner":
        return [{"text": text, "entities": entities} for text, entities in zip(texts, predictor.predict(texts, progress))]
    predictions = classify_filled(predictor, texts, pairs, progress)
    return [
        dict({"text": text}, **({"text_pair": pairs[i]} if pairs else {}), **prediction)
        for i, (text, prediction) in enumerate(zip(texts, predictions))
    ]


def main(argv: list | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    texts, pairs = read_inputs(args.input)
    task, predictor = load_predictor(args.model_dir, args.max_seq_length, args.batch_size, args.backend, args.quantize)
    progress = None
    if args.input and not args.quiet:
        from tqdm.auto import tqdm

        progress = tqdm(desc="Predicting", unit="window", file=sys.stderr)
    results = predicted_records(task, predictor, texts, pairs, progress)
    if progress is not None:
        progress.close()
    lines = "".join(json.dumps(result, ensure_ascii=False) + "\n" for result in results)
    if args.output:
        atomic_write(args.output, lines)
    else:
        sys.stdout.write(lines)
    return 0


if __name__ == "__main__":
    sys.exit(exits_cleanly_on_user_errors(main)())
