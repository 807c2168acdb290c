"""One smoke test per shell script, launched as a user launches it: the script reaches its program, and what the
process prints and writes is what the in-process runner (in_process.py) gives the rest of the suite.
train.sh is launched in test_run_ner_e2e.py, test_run_glue_e2e.py and test_multiprocess.py, serve.sh in
test_serving.py."""

import json
import os

import pytest

from conftest import REPO, launch, run_program
from folders import copy_of

pytestmark = pytest.mark.slow

TEXTS = "Anna Kowalski joined Helix Motors in Oslo last year .\n\nShares in Orion Telecom fell after Tomas Rossi resigned .\n"


def test_predict_sh_prints_what_the_in_process_run_prints(trained_ner, tmp_path):
    launched = launch("sh", os.path.join(REPO, "scripts", "predict.sh"), str(trained_ner), input_text=TEXTS,
                      cwd=str(tmp_path))
    assert launched.returncode == 0, launched.stderr[-3000:]
    here = run_program("sh", "scripts/predict.sh", str(trained_ner), input_text=TEXTS)
    assert here.returncode == 0, here.stderr[-3000:]
    assert launched.stdout == here.stdout and len(launched.stdout.splitlines()) == 3
    assert json.loads(launched.stdout.splitlines()[1]) == {"text": "", "entities": []}


def test_eval_sh_writes_the_scores_the_in_process_run_writes(trained_ner, tmp_path):
    launched_folder, here_folder = copy_of(trained_ner, tmp_path, "launched"), copy_of(trained_ner, tmp_path, "here")
    launched = launch("sh", os.path.join(REPO, "scripts", "eval.sh"), str(launched_folder), cwd=str(tmp_path))
    assert launched.returncode == 0, launched.stderr[-3000:]
    here = run_program("sh", "scripts/eval.sh", str(here_folder))
    assert here.returncode == 0, here.stderr[-3000:]
    timing = ("runtime", "per_second", "preparation_time")
    scores = [{key: value for key, value in json.loads((folder / "all_results.json").read_text()).items()
               if not key.endswith(timing)} for folder in (launched_folder, here_folder)]
    assert scores[0] == scores[1] and "eval_f1" in scores[0] and "predict_f1" in scores[0]
    assert (launched_folder / "predictions.txt").read_text() == (here_folder / "predictions.txt").read_text()
    assert "Results (" in launched.stdout + launched.stderr


@pytest.mark.parametrize("script", ["train.sh", "eval.sh", "predict.sh", "serve.sh"])
def test_each_script_without_arguments_prints_its_usage(script):
    result = launch("sh", os.path.join(REPO, "scripts", script))
    assert result.returncode == 2 and result.stderr.startswith(f"usage: sh scripts/{script} <task_output>")


def test_in_a_new_shell_the_scripts_find_the_projects_environment_or_say_how_to_make_one(trained_ner, tmp_path):
    """A shell where nothing is activated: python on PATH lacks the packages. The scripts then use the project's
    .venv when there is one, and otherwise stop with one line saying how to create or activate it."""
    import shutil
    import subprocess
    import sys

    bare = tmp_path / "bin"
    bare.mkdir()
    for name in ("python", "python3"):  # interpreters without transformers, first on PATH
        (bare / name).write_text("#!/bin/sh\nexit 1\n")
        (bare / name).chmod(0o755)
    shell = {"PATH": f"{bare}:/usr/bin:/bin", "HOME": str(tmp_path)}
    project = tmp_path / "project"
    shutil.copytree(os.path.join(REPO, "scripts"), project / "scripts")
    refused = subprocess.run(["sh", str(project / "scripts" / "predict.sh"), str(trained_ner)], env=shell,
                             input="Anna visited Oslo .\n", capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.splitlines() == [refused.stderr.strip()]
    assert refused.stderr.startswith(f"error: no python (python, python3 or {project}/.venv) has no transformers and "
                                     f"torch: create the project's environment (cd {project} && python3 -m venv .venv")
    os.symlink(sys.prefix, project / ".venv")  # the project's environment (the suite's own), not activated
    shutil.copytree(os.path.join(REPO, "tunekit"), project / "tunekit")
    found = subprocess.run(["sh", str(project / "scripts" / "predict.sh"), str(trained_ner)], env=shell,
                           input="Anna visited Oslo .\n", capture_output=True, text=True, timeout=120)
    assert found.returncode == 0, found.stderr[-2000:]
    assert json.loads(found.stdout)["text"] == "Anna visited Oslo ."
