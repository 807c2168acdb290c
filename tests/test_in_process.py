"""The in-process runner the suite is built on: runs cannot leak into each other, and the scripts offer main()."""

import json
import logging
import os
import sys
from unittest import mock

import pytest
import torch

from conftest import quick_ner_flags
from in_process import _snapshot, run_program, script_module


def comparable(snapshot: dict) -> dict:
    """A global-state snapshot in a form that compares with ==; a logger first made during a run (a module
    imported by it) must have been left in the state a new logger has, so only the others are kept."""
    loggers = {name: (level, [id(h) for h in handlers], propagate, disabled)
               for name, (level, handlers, propagate, disabled) in snapshot["loggers"].items()
               if (level, handlers, propagate, disabled) != (logging.NOTSET, [], True, False)}
    numpy_state = snapshot["numpy"]
    return dict(snapshot, loggers=loggers, numpy=(numpy_state[0], numpy_state[1].tolist(), *numpy_state[2:]),
                torch=snapshot["torch"].tolist(), stdin=id(snapshot["stdin"]))


def glue_files(folder):
    rows = "".join(f"the film was {word}\t{label}\n" for word, label in [("good", 1), ("dull", 0), ("fine", 1)] * 8)
    folder.mkdir()
    for name in ("train.tsv", "dev.tsv"):
        (folder / name).write_text(rows)
    return folder


@pytest.mark.slow
def test_two_configurations_back_to_back_give_what_each_gives_alone(tiny_bert, tmp_path):
    """A classifier run, then a very different tagger run (CRF, other seed, debug log, other env and threads),
    then the classifier again: the second classifier run matches the first to the last digit and line, and the
    process is left as it was found."""
    data = glue_files(tmp_path / "glue")
    classify = ["run_glue.py", "--model_name_or_path", tiny_bert, "--data_dir", str(data), "--do_train", "--do_eval",
                "--max_steps", "4", "--per_device_train_batch_size", "8", "--learning_rate", "1e-3",
                "--save_strategy", "no", "--report_to", "none", "--disable_tqdm", "true", "--bootstrap_resamples", "20"]
    before = comparable(_snapshot())
    first = run_program(*classify, "--output_dir", str(tmp_path / "first"))
    assert first.returncode == 0, first.stderr[-3000:]
    assert comparable(_snapshot()) == before

    tagger = run_program(*quick_ner_flags(tiny_bert, tmp_path / "tagger", "--use_crf", "--seed", "7",
                                          "--log_level", "debug", "--bf16", "true"),
                         env={"TUNEKIT_TEST_VARIABLE": "1", "OMP_NUM_THREADS": "1"})
    assert tagger.returncode == 0, tagger.stderr[-3000:]
    assert "DEBUG" in tagger.stdout + tagger.stderr  # its log level reached its own log
    assert comparable(_snapshot()) == before
    assert "TUNEKIT_TEST_VARIABLE" not in os.environ and logging.getLogger("transformers").level == before["loggers"][
        "transformers"][0]

    second = run_program(*classify, "--output_dir", str(tmp_path / "second"))
    assert second.returncode == 0, second.stderr[-3000:]
    results = [json.load(open(tmp_path / name / "all_results.json")) for name in ("first", "second")]
    timing = ("runtime", "per_second", "seconds", "preparation_time")
    scores = [{key: value for key, value in r.items() if not any(word in key for word in timing)} for r in results]
    assert scores[0] == scores[1] and "eval_accuracy" in scores[0] and "train_loss" in scores[0]
    # the log shows the same lines (times and folder names aside): no level or handler was carried over
    assert "DEBUG" not in second.stdout + second.stderr
    assert len(second.stdout.splitlines()) == len(first.stdout.splitlines())


def test_script_main_runs_under_a_patched_argv_as_transformers_example_tests_call_it(tiny_bert, tmp_path):
    run_ner, run_glue = script_module("run_ner.py"), script_module("run_glue.py")
    output = tmp_path / "out"
    with mock.patch.object(sys, "argv", ["run_ner.py", *quick_ner_flags(tiny_bert, output)[1:]]):
        assert run_ner.main() == 0
    assert json.load(open(output / "all_results.json"))["eval_f1"] >= 0
    with mock.patch.object(sys, "argv", ["run_glue.py", "--help"]):
        assert run_glue.main() == 0
    assert torch.get_num_threads() >= 1
