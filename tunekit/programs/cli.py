"""Console entry points of the installed package (pyproject.toml): the same programs as the repository's scripts.

    tunekit-train ner|glue [flags]   = python run_ner.py / run_glue.py [flags]
    tunekit-eval <output_dir> [...]  = sh scripts/eval.sh
    tunekit-predict <output_dir> ... = sh scripts/predict.sh
    tunekit-serve <output_dir> ...   = sh scripts/serve.sh
"""

import sys

from tunekit.errors import exits_cleanly_on_user_errors

SCRIPTS = {"ner": "run_ner.py", "glue": "run_glue.py"}


def run_task(task: str, argv: list) -> int:
    """Help without importing torch (it answers at once); otherwise the task's pipeline."""
    from tunekit.config.help import show_help, wants_help

    if wants_help(argv):
        if task == "ner":
            from tunekit.tasks.ner_arguments import NerDataArguments as data_arguments
        else:
            from tunekit.tasks.glue_arguments import GlueDataArguments as data_arguments
        return show_help(SCRIPTS[task], data_arguments, argv) or 0
    if task == "ner":
        from tunekit.tasks.ner import run
    else:
        from tunekit.tasks.glue import run
    return exits_cleanly_on_user_errors(run)(argv)


def train(argv: list | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in SCRIPTS:
        print("usage: tunekit-train ner|glue --output_dir DIR [flags...]   (tunekit-train ner --help lists them)",
              file=sys.stderr)
        return 2
    return run_task(argv[0], argv[1:])


def evaluate(argv: list | None = None) -> int:
    from tunekit.programs.evaluate import main

    return exits_cleanly_on_user_errors(main)(sys.argv[1:] if argv is None else argv)


def predict(argv: list | None = None) -> int:
    from tunekit.inference.predict import main

    return exits_cleanly_on_user_errors(main)(sys.argv[1:] if argv is None else argv)


def serve(argv: list | None = None) -> int:
    from tunekit.serving.server import main

    return exits_cleanly_on_user_errors(main)(sys.argv[1:] if argv is None else argv)
