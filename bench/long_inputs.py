#!/usr/bin/env python
"""How windowing long sentences keeps every word: predict a test set at several max_seq_length values.

For each length it runs run_ner.py --do_predict on a fine-tuned model and prints the words in the input,
the words in predictions.txt, and the test F1.

    python bench/long_inputs.py --model outputs/conll --test_file /path/to/conll2003/test.txt --lengths 32,64,128,512
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from tunekit.data.readers import TokenReadOptions, read_token_file  # noqa: E402


def predicted_words(path):
    with open(path, encoding="utf-8") as stream:
        return sum(1 for line in stream if line.strip())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a folder written by run_ner.py")
    parser.add_argument("--test_file", required=True)
    parser.add_argument("--lengths", default="32,64,128,512")
    parser.add_argument("--stride", type=int, default=None)
    args = parser.parse_args()

    input_words = sum(len(r["tokens"]) for r in read_token_file(args.test_file, TokenReadOptions(labels_required=False)))
    print(f"{'max_seq_length':>14} {'input words':>12} {'predicted':>10} {'test F1':>8}")
    for length in args.lengths.split(","):
        with tempfile.TemporaryDirectory() as output_dir:
            command = [
                sys.executable, os.path.join(REPO, "run_ner.py"),
                "--model_name_or_path", args.model, "--test_file", args.test_file, "--output_dir", output_dir,
                "--do_predict", "--max_seq_length", length, "--per_device_eval_batch_size", "64",
                "--report_to", "none", "--disable_tqdm", "true",
            ] + (["--stride", str(args.stride)] if args.stride is not None else [])
            subprocess.run(command, check=True, capture_output=True, text=True)
            with open(os.path.join(output_dir, "predict_results.json")) as stream:
                f1 = json.load(stream)["predict_f1"]
            words = predicted_words(os.path.join(output_dir, "predictions.txt"))
        print(f"{length:>14} {input_words:>12} {words:>10} {f1:>8.4f}")


if __name__ == "__main__":
    main()
