"""Training a task from the command line (run_ner.py, run_glue.py, tunekit-train): help without importing torch,
then the pipeline, or with --seeds one run per seed (programs/seeds.py)."""

import contextlib

from tunekit import tasks
from tunekit.errors import exits_cleanly_on_user_errors


def run_task(name: str, argv: list) -> int:
    """Help answers at once (only the task's arguments module is imported); otherwise the task's run."""
    from tunekit.config.help import show_help, wants_help

    if wants_help(argv):
        show_help(tasks.script(name), tasks.data_arguments(name), argv)
        return 0
    return exits_cleanly_on_user_errors(train)(name, argv)


def train(name: str, argv: list) -> int:
    from tunekit import pipeline
    from tunekit.programs.seeds import run_seeds

    task = tasks.get(name)
    with contextlib.ExitStack() as held:  # the output folder's lock, for the whole run
        settings, previous, checkpoint = pipeline.start(task, argv, held)
        if settings.run.seeds:
            return run_seeds(task, settings)
        return pipeline.run(task, settings, previous, checkpoint)
