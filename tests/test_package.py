"""`pip install .` gives the package with its metric modules and the console commands train, eval and predict."""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import NER_SAMPLE, REPO

pytestmark = pytest.mark.slow  # the wheel is built, installed and its commands launched


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The wheel pip builds from pyproject.toml, installed (without dependencies: this venv has them) in a folder."""
    root = tmp_path_factory.mktemp("package")
    source = root / "source"  # a copy: building in the repository would leave build/ and egg-info there
    top_level_only = {".venv", ".git", "outputs", "build"}
    shutil.copytree(REPO, source, ignore=lambda folder, names: [
        name for name in names if name == "__pycache__" or (folder == REPO and name in top_level_only)
    ])
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(root / "wheel"), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((root / "wheel").glob("tunekit-*.whl"))
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(root / "site"), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    return wheel, root / "site"


def command(site, name, *args, cwd):
    env = dict(os.environ, PYTHONPATH=str(site))
    return subprocess.run([str(site / "bin" / name), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_wheel_holds_the_package_its_metric_modules_and_the_crf_code(installed):
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert "tunekit/pipeline.py" in names and "tunekit/modeling/taggers/modeling_crf.py" in names
    assert {f"tunekit/evaluation/metrics/{m}/{m}.py" for m in ("classification", "regression", "multilabel")} <= set(names)
    assert not any(name.startswith(("tests/", "bench/")) for name in names)


def test_the_installed_commands_train_evaluate_and_predict(installed, tiny_bert, tmp_path):
    _, site = installed
    output = tmp_path / "out"
    elsewhere = tmp_path  # not the repository: the installed package must be the one imported
    trained = command(site, "tunekit-train", "ner", "--model_name_or_path", tiny_bert, "--data_dir", NER_SAMPLE,
                      "--output_dir", str(output), "--do_train", "--do_eval", "--max_train_samples", "64",
                      "--max_eval_samples", "40", "--num_train_epochs", "1", "--report_to", "none",
                      "--save_strategy", "no", cwd=elsewhere)
    assert trained.returncode == 0, trained.stderr[-2000:]
    where = subprocess.run([sys.executable, "-c", "import tunekit; print(tunekit.__file__)"], cwd=elsewhere,
                           env=dict(os.environ, PYTHONPATH=str(site)), capture_output=True, text=True)
    assert where.stdout.strip().startswith(str(site)), where.stdout
    evaluated = command(site, "tunekit-eval", str(output), cwd=elsewhere)
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert "eval_f1" in json.loads((output / "eval_results.json").read_text())
    predicted = subprocess.run(
        [str(site / "bin" / "tunekit-predict"), str(output), "--quiet"], input="Anna Brandt visited Oslo.\n",
        cwd=elsewhere, env=dict(os.environ, PYTHONPATH=str(site)), capture_output=True, text=True, timeout=300,
    )
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    assert json.loads(predicted.stdout.splitlines()[0])["text"] == "Anna Brandt visited Oslo."
    missing = command(site, "tunekit-serve", str(elsewhere / "missing"), cwd=elsewhere)
    assert missing.returncode == 2 and "not a model folder" in missing.stderr
    usage = command(site, "tunekit-train", cwd=elsewhere)
    assert usage.returncode == 2 and "tunekit-train ner|classification|glue" in usage.stderr
    helped = command(site, "tunekit-train", "glue", "--help", cwd=elsewhere)
    assert helped.returncode == 0 and "--task_name" in helped.stdout
