"""Console entry points of the installed package (pyproject.toml): the same programs as the repository's scripts.

    tunekit-train ner|classification [flags]   = python run_ner.py / run_glue.py [flags] (glue: classification)
    tunekit-eval <output_dir> [...]            = sh scripts/eval.sh
    tunekit-predict <output_dir> ...           = sh scripts/predict.sh
    tunekit-serve <output_dir> ...             = sh scripts/serve.sh
"""

import sys

from tunekit import tasks
from tunekit.errors import exits_cleanly_on_user_errors


def train(argv: list | None = None) -> int:
    from tunekit.programs.train import run_task

    argv = sys.argv[1:] if argv is None else argv
    if not argv or tasks.ALIASES.get(argv[0], argv[0]) not in tasks.TASKS:
        names = "|".join([*tasks.TASKS, *tasks.ALIASES])
        print(f"usage: tunekit-train {names} --output_dir DIR [flags...]   (tunekit-train ner --help lists them)",
              file=sys.stderr)
        return 2
    return run_task(argv[0], argv[1:])


def evaluate(argv: list | None = None) -> int:
    from tunekit.programs.evaluate import main

    return exits_cleanly_on_user_errors(main)(sys.argv[1:] if argv is None else argv)


def predict(argv: list | None = None) -> int:
    from tunekit.programs.predict import main

    return exits_cleanly_on_user_errors(main)(sys.argv[1:] if argv is None else argv)


def serve(argv: list | None = None) -> int:
    from tunekit.programs.serve import main

    return exits_cleanly_on_user_errors(main)(sys.argv[1:] if argv is None else argv)
