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
import logging
import os
import sys

from tunekit.errors import UserError, exits_cleanly_on_user_errors
from tunekit.inference.inputs import read_inputs
from tunekit.files import atomic_write


logger = logging.getLogger("tunekit")


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


def load_predictor(model_dir: str, max_seq_length=None, batch_size: int = 32, backend: str = "torch",
                   quantize: str = "none") -> tuple:
    """(task, predictor) for a saved folder, with the settings it was trained with, run by the chosen backend
    (torch, or onnxruntime with the exact or the checked int8 graph)."""
    import transformers
    from transformers import AutoConfig, AutoTokenizer

    from tunekit.inference.backend import runtime_model
    from tunekit.evaluation.thresholds import saved_thresholds
    from tunekit.inference.classification import ClassificationPredictor
    from tunekit.folder import saved_run_facts
    from tunekit.data.max_length import model_max_length
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
    its entities, or with its label and probabilities. Should the batch fail, each text is predicted alone, so that
    a text the model cannot read gets {"text", "error"} and takes no other text down with it."""
    try:
        return batch_records(task, predictor, texts, pairs, progress)
    except Exception:  # noqa: BLE001 - find the text that fails; the others are answered
        if len(texts) < 2:
            return [failed_record(texts[0])] if texts else []
    return [record for i in range(len(texts))
            for record in predicted_records(task, predictor, texts[i:i + 1], pairs[i:i + 1] if pairs else None)]


def failed_record(text: str) -> dict:
    logger.exception("a text could not be predicted")
    return {"text": text, "error": "the model could not read this text (an internal error, logged with its traceback)"}


def batch_records(task: str, predictor, texts: list, pairs: list | None, progress=None) -> list:
    if task == "ner":
        return [{"text": text, "entities": entities} for text, entities in zip(texts, predictor.predict(texts, progress))]
    predictions = classify_filled(predictor, texts, pairs, progress)
    return [
        dict({"text": text}, **({"text_pair": pairs[i]} if pairs else {}), **prediction)
        for i, (text, prediction) in enumerate(zip(texts, predictions))
    ]


def main(argv: list | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    inputs = read_inputs(args.input)
    task, predictor = load_predictor(args.model_dir, args.max_seq_length, args.batch_size, args.backend, args.quantize)
    progress = None
    if args.input and not args.quiet:
        from tqdm.auto import tqdm

        progress = tqdm(desc="Predicting", unit="window", file=sys.stderr)
    readable = [i for i in range(len(inputs.texts)) if i not in inputs.problems]
    predicted = predicted_records(task, predictor, [inputs.texts[i] for i in readable],
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
