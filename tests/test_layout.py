"""The package keeps the shape docs/ARCHITECTURE.md describes: folders by stage, one ignore index, typed
public functions."""

import ast
import os
import re

from conftest import REPO

PACKAGE = os.path.join(REPO, "tunekit")
ROOT_MODULES = {"__init__.py", "pipeline.py", "compat.py", "errors.py", "splits.py", "files.py", "folder.py"}
STAGES = {"config", "data", "encoding", "modeling", "training", "evaluation", "outputs", "inference", "serving", "tasks",
          "programs"}


def package_files():
    for folder, _, names in os.walk(PACKAGE):
        for name in names:
            path = os.path.join(folder, name)
            # the metric scripts follow evaluate's module layout; the modeling_*.py files ship inside model folders
            # and follow transformers' modeling files
            if name.endswith(".py") and "evaluation/metrics/" not in path and not name.startswith("modeling_"):
                yield path


def test_modules_live_in_the_folder_of_their_stage():
    entries = {name for name in os.listdir(PACKAGE) if name != "__pycache__"}
    assert {name for name in entries if name.endswith(".py")} == ROOT_MODULES
    assert {name for name in entries if not name.endswith(".py")} == STAGES


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
