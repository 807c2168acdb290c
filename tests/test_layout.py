"""The package keeps the shape docs/ARCHITECTURE.md describes: folders by stage, imports down the stage order, no
task name tested outside tasks/, one ignore index, typed public functions."""

import ast
import os
import re

from conftest import REPO

PACKAGE = os.path.join(REPO, "tunekit")
ARCHITECTURE = os.path.join(REPO, "docs", "ARCHITECTURE.md")
# The floors, bottom first: a module imports from its own floor and those below it.
FLOORS = (
    {"__init__", "errors", "splits", "files", "folder", "folder_lock", "backends", "compat"},
    {"config"}, {"data"}, {"encoding"}, {"modeling"}, {"training"}, {"inference"}, {"evaluation"}, {"outputs"},
    {"serving"}, {"tasks"}, {"pipeline"}, {"programs"},
)
ROOT_MODULES = {f"{name}.py" for name in FLOORS[0] | {"pipeline"}}
STAGES = set().union(*FLOORS[1:]) - {"pipeline"}
MOST_EXCEPTIONS = 5


def package_files(every_file: bool = False):
    for folder, _, names in os.walk(PACKAGE):
        for name in names:
            path = os.path.join(folder, name)
            # the metric scripts follow evaluate's module layout; the modeling_*.py files ship inside model folders
            # and follow transformers' modeling files
            if name.endswith(".py") and (every_file or ("evaluation/metrics/" not in path and not name.startswith("modeling_"))):
                yield path


def test_modules_live_in_the_folder_of_their_stage():
    entries = {name for name in os.listdir(PACKAGE) if name != "__pycache__"}
    assert {name for name in entries if name.endswith(".py")} == ROOT_MODULES
    assert {name for name in entries if not name.endswith(".py")} == STAGES


def floor(module: str) -> int:
    """The floor of tunekit.<first>...: its stage folder or root module."""
    first = module.split(".")[1] if "." in module else "__init__"
    return next(number for number, names in enumerate(FLOORS) if first in names)


def imports_up() -> set:
    """(folder, folder) pairs where a module imports from a floor above its own, static imports and lazy ones in
    functions alike."""
    found = set()
    for path in package_files(every_file=True):
        module = os.path.relpath(path, REPO)[:-3].replace(os.sep, ".").removesuffix(".__init__")
        for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tunekit"):
                targets = [f"{node.module}.{alias.name}" if node.module == "tunekit" else node.module for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names if alias.name.startswith("tunekit")]
            else:
                continue
            for target in targets:
                if floor(target) > floor(module):
                    found.add((module.split(".")[1] if "." in module else "__init__", target.split(".")[1]))
    return found


def named_exceptions() -> set:
    """The imports up that docs/ARCHITECTURE.md names, each with its reason: lines `- \`from\` -> \`to\`: why`
    under its heading "Imports that go up"."""
    text = open(ARCHITECTURE, encoding="utf-8").read()
    section = text.split("## Imports that go up", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^- `(\w+)` -> `(\w+)`: \S", section, re.M))


def test_imports_go_down_the_stage_order_but_for_the_named_exceptions():
    assert imports_up() == named_exceptions()
    assert len(named_exceptions()) <= MOST_EXCEPTIONS


def test_a_floor_above_its_importer_is_noticed():
    """The check itself: a program imports the pipeline (down), the pipeline never a program (up)."""
    assert floor("tunekit.programs.train") > floor("tunekit.pipeline") > floor("tunekit.tasks.ner")
    assert floor("tunekit.folder") == floor("tunekit.errors") == 0


def task_names() -> set:
    from tunekit import tasks

    return set(tasks.TASKS) | set(tasks.ALIASES)


def task_name_tests(source: str) -> list:
    """(line, what) where a task name or token_level is tested: compared with ==, !=, in, not in, or matched."""
    names, found = task_names(), []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Name, ast.Attribute, ast.arg, ast.keyword)):
            name = getattr(node, "id", None) or getattr(node, "attr", None) or getattr(node, "arg", None)
            if name == "token_level":
                found.append((node.lineno, "token_level"))
        operands = []
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
        elif isinstance(node, ast.match_case):
            operands = [node.pattern]
        for operand in operands:
            for inner in ast.walk(operand):
                value = getattr(inner, "value", None)
                if isinstance(inner, (ast.Constant, ast.MatchValue)) and isinstance(value, ast.Constant):
                    value = value.value
                if isinstance(value, str) and value in names:
                    found.append((node.lineno, value))
    return found


def test_no_task_name_or_token_level_is_tested_outside_tasks():
    """Prediction, serving, the page, the card, the reports and the programs ask the folder's task; only tasks/
    knows which task is which."""
    outside = {}
    for path in package_files(every_file=True):
        relative = os.path.relpath(path, REPO)
        if not relative.startswith(os.path.join("tunekit", "tasks") + os.sep):
            found = task_name_tests(open(path, encoding="utf-8").read())
            if found:
                outside[relative] = found
    assert not outside, outside


def test_the_task_name_check_notices_a_test():
    assert task_name_tests('if task == "ner":\n    pass\n') == [(1, "ner")]
    assert task_name_tests('ok = name in ("glue", "other")\n') == [(1, "glue")]
    assert task_name_tests("plan(model, token_level=True)\n") == [(1, "token_level")]
    assert task_name_tests('scheme = "ner"\nif data_args.task_name not in PLAIN_TASKS:\n    pass\n') == []


def test_minus_100_is_written_once():
    from tunekit.encoding import IGNORE_INDEX
    from tunekit.modeling.taggers import modeling_bilstm, modeling_crf

    places = [os.path.relpath(path, REPO) for path in package_files()
              if re.search(r"(?<![\w.])-100\b", open(path, encoding="utf-8").read())]
    assert places == ["tunekit/encoding/__init__.py"]
    # the taggers' own copy (they ship inside model folders and cannot import tunekit)
    assert modeling_crf.IGNORED == modeling_bilstm.IGNORED == IGNORE_INDEX


def test_every_public_function_says_what_it_returns():
    """Module-level functions and the methods of public classes (closures inside a function are not API)."""
    untyped = []
    for path in package_files():
        tree = ast.parse(open(path, encoding="utf-8").read())
        methods = [item for node in tree.body if isinstance(node, ast.ClassDef) and not node.name.startswith("_")
                   for item in node.body]
        for node in tree.body + methods:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_") and node.returns is None:
                untyped.append(f"{os.path.relpath(path, REPO)}:{node.lineno} {node.name}")
    assert not untyped, untyped


# What a task, scorer, head or data-arguments object has is declared by its type (tasks/base.py, the Scorer
# protocol, CardText, Predictor); generic code does not probe for it. The objects are recognised by name.
PROBED = {"task": ("tunekit/tasks/",), "scorer": ("tunekit/evaluation/ner_scorer.py",
                                                  "tunekit/evaluation/classification_scorer.py"),
          "model": ("tunekit/modeling/",), "student": ("tunekit/modeling/",), "teacher": ("tunekit/modeling/",),
          "head": ("tunekit/modeling/",), "data_args": ("tunekit/config/", "tunekit/tasks/")}
# (module, object, attribute): the exceptions, each for a model that is not ours to declare anything
PROBE_EXCEPTIONS = {
    # Trainer's own duck typing of whatever model it is handed, as Trainer.floating_point_ops does it
    ("tunekit/training/trainer.py", "self.model", "main_input_name"),
    ("tunekit/training/trainer.py", "model", "num_parameters"),
    # the speed techniques run on any transformers model: its config, its classifier under the names they use
    ("tunekit/training/speed/packing.py", "model", "config"),
    ("tunekit/training/speed/precision.py", "model", "name"),
    # the mark this module leaves on a head it has wrapped, so that it wraps it once
    ("tunekit/training/speed/precision.py", "head", "_tunekit_fp32"),
}


def probes(source: str) -> list:
    """(object, attribute) of each hasattr(obj, ...) and getattr(obj, name, default) whose object is named as one
    of PROBED (a name or an attribute such as self.model)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if not ((node.func.id == "hasattr" and len(node.args) == 2) or (node.func.id == "getattr" and len(node.args) == 3)):
            continue
        target, attribute = node.args[0], node.args[1]
        last = target.id if isinstance(target, ast.Name) else target.attr if isinstance(target, ast.Attribute) else None
        if last in PROBED:
            name = attribute.value if isinstance(attribute, ast.Constant) else ast.unparse(attribute)
            found.append((last, ast.unparse(target), name))
    return found


def test_no_task_scorer_head_or_data_arguments_is_probed_outside_its_own_module():
    outside = []
    for path in package_files(every_file=True):
        relative = os.path.relpath(path, REPO).replace(os.sep, "/")
        for kind, target, attribute in probes(open(path, encoding="utf-8").read()):
            if not relative.startswith(PROBED[kind]) and (relative, target, attribute) not in PROBE_EXCEPTIONS:
                outside.append(f"{relative}: {target}.{attribute}")
    assert not outside, outside


def test_the_probe_check_notices_a_probe():
    assert probes('if hasattr(scorer, "parts"):\n    pass\n') == [("scorer", "scorer", "parts")]
    assert probes('corpora = getattr(data_args, "corpora", None)\n') == [("data_args", "data_args", "corpora")]
    assert probes('crf = getattr(self.model, "crf", None)\n') == [("model", "self.model", "crf")]
    assert probes('value = getattr(data_args, name)\nok = hasattr(path, "parts")\n') == []
