"""A backend is a plug-in: an object that stands in for the PyTorch model, registered from outside the package
(toy_backend.py), evaluates and predicts through eval.sh and predict.sh with the same scores and answers as torch."""

import json

import pytest

import toy_backend
from folders import copy_of
from in_process import run_program
from tunekit import backends

EVAL, PREDICT = "scripts/eval.sh", "scripts/predict.sh"
TEXT = "Anna Brandt visited Oslo .\nPeter flew to Berlin .\n"


@pytest.fixture
def counting():
    backends.register("counting", "toy_backend:BACKEND")
    toy_backend.ROWS.clear()
    yield
    del backends.BACKENDS["counting"]


@pytest.mark.slow  # evaluates and predicts twice
def test_a_backend_registered_from_outside_evaluates_and_predicts_as_torch_does(counting, trained_ner, tmp_path):
    folder = copy_of(trained_ner, tmp_path)
    torch_run = run_program("sh", EVAL, folder)
    assert torch_run.returncode == 0, torch_run.stderr[-2000:]
    exact = json.loads((folder / "eval_results.json").read_text())
    assert not toy_backend.ROWS
    counted = run_program("sh", EVAL, folder, "--backend", "counting")
    assert counted.returncode == 0, counted.stderr[-2000:]
    assert "Evaluating with the counting backend" in counted.stdout + counted.stderr
    again = json.loads((folder / "eval_results.json").read_text())
    assert again["eval_f1"] == exact["eval_f1"] and again["eval_samples"] == exact["eval_samples"]
    assert sum(toy_backend.ROWS) >= exact["eval_samples"]  # every dev sentence (and test's) went through it

    toy_backend.ROWS.clear()
    plain = run_program("sh", PREDICT, folder, input_text=TEXT)
    through = run_program("sh", PREDICT, folder, "--backend", "counting", input_text=TEXT)
    assert through.returncode == 0, through.stderr[-2000:]
    assert through.stdout == plain.stdout and sum(toy_backend.ROWS) == 2
