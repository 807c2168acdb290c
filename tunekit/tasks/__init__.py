"""The registry of tasks: each task is a plug-in loaded by name only when a run needs it (so --help and the console
commands answer before torch is imported).

Built in: `ner` (token classification: NER, POS, chunking) and `classification` (sentences and pairs, regression,
multi-label; `glue` is an alias, as users type it). A plug-in registers itself with
`register(name, "module:attribute", "module:DataArguments")`; a folder it trains records where its task lives, so
eval.sh, predict.sh and serve.sh find the task of any saved folder.
"""

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tunekit.tasks.base import Task



@dataclass(frozen=True)
class Entry:
    """Where a task lives: its Task object and data-arguments dataclass as "module:attribute" (imported only when
    used), and the script that runs it (its --help names it). What scripts/train.sh needs of it: the --task_name
    values that mean this task ("module:attribute" of a collection of them, "" for none), the flags train.sh gives
    it, and the data it trains on when the command names none (a folder of the repository, "" for none)."""

    task: str
    data_arguments: str
    script: str
    claims: str = ""
    train_defaults: tuple = ()
    sample_data: str = ""


TASKS = {
    "ner": Entry("tunekit.tasks.ner:TASK", "tunekit.tasks.ner_arguments:NerDataArguments", "run_ner.py",
                 train_defaults=("--num_train_epochs", "2"), sample_data="data/ner_sample"),
    "classification": Entry("tunekit.tasks.classification:TASK",
                            "tunekit.tasks.classification_arguments:ClassificationDataArguments", "run_glue.py",
                            claims="tunekit.data.glue_tasks:GLUE_TASKS", train_defaults=("--num_train_epochs", "3")),
}
DEFAULT_TASK = "ner"  # what scripts/train.sh trains when nothing names a task
ALIASES = {"glue": "classification"}


def register(name: str, task: str, data_arguments: str, script: str | None = None) -> None:
    """Add a task: `task` and `data_arguments` are "module:attribute" of its Task object and data-arguments
    dataclass; script: what runs it (default: tunekit-train <name>)."""
    TASKS[name] = Entry(task, data_arguments, script or f"tunekit-train {name}")


def canonical(name: str) -> str:
    """The task's one name (an alias resolved); a name no task has is a one-line error."""
    name = ALIASES.get(name, name)
    if name not in TASKS:
        from tunekit.errors import UserError

        raise UserError(f"unknown task '{name}': the tasks are {', '.join(sorted(TASKS))}")
    return name


def load(target: str) -> Any:
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def get(name: str, where: str | None = None) -> "Task":
    """The registered task `name`; `where` ("module:attribute", as a saved folder records a plug-in's task) registers
    it first where this process has not."""
    if where and ALIASES.get(name, name) not in TASKS:
        task = load(where)
        register(name, where, f"{task.data_arguments.__module__}:{task.data_arguments.__name__}")
        return task
    return load(TASKS[canonical(name)].task)


def of_folder(facts: dict) -> "Task":
    """The task of a saved folder, from what its training recorded (OutputFolder.facts()): its name, and for a
    plug-in this process has not registered, where its Task object lives."""
    return get(facts["task"], facts.get("task_plugin"))


def data_arguments(name: str) -> type:
    """The task's data-arguments dataclass, without importing the task (for --help)."""
    return load(TASKS[canonical(name)].data_arguments)


def claimed_by(task_name: str) -> str | None:
    """The task whose --task_name values include task_name (classification's GLUE tasks), or None."""
    for name, entry in TASKS.items():
        if entry.claims and task_name in load(entry.claims):
            return name
    return None


def script(name: str) -> str:
    """The script that runs the task."""
    return TASKS[canonical(name)].script


def where(task: "Task") -> str:
    """"module:attribute" of a registered task, as its saved folders record it."""
    return TASKS[task.name].task
