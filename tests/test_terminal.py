"""What a run prints: one readable line per event, numbers as numbers, no tables, bars or escape codes in a log."""

import re
from types import SimpleNamespace

import pytest


from conftest import NER_SAMPLE, run_program
from tunekit.training.terminal import log_line


def test_log_events_read_as_lines_with_numbers():
    state = SimpleNamespace(global_step=50, max_steps=188)
    training = log_line({"loss": 0.75, "grad_norm": 0.6723, "learning_rate": 3.697e-05, "epoch": 0.5319}, state)
    assert training == "step 50/188  epoch 0.53  loss 0.7500  grad norm 0.6723  learning rate 3.70e-05"
    evaluation = log_line({"eval_loss": 0.07086, "eval_f1": 0.9504, "eval_runtime": 0.5757,
                           "eval_samples_per_second": 694.8, "epoch": 1.0}, state)
    assert evaluation == "dev at step 50/188  epoch 1.00: loss 0.0709  f1 0.9504  (0.6 s)"
    done = log_line({"train_runtime": 32.66, "train_samples_per_second": 183.7, "train_loss": 0.2468, "epoch": 2.0}, state)
    assert done == "training done at step 50/188  epoch 2.00: loss 0.2468, 32.7 s, 183.7 samples/s"
    assert log_line({"eval_mm_accuracy": 0.8, "epoch": 1.0}, state) == "dev-mm at step 50/188  epoch 1.00: accuracy 0.8000"


@pytest.mark.slow
def test_a_run_into_a_log_file_prints_lines_only(tiny_bert, tmp_path):
    result = run_program(
        "run_ner.py", "--model_name_or_path", tiny_bert, "--data_dir", NER_SAMPLE, "--output_dir", str(tmp_path / "o"),
        "--do_train", "--do_eval", "--max_train_samples", "64", "--max_eval_samples", "16", "--max_steps", "4",
        "--logging_steps", "2", "--eval_strategy", "steps", "--eval_steps", "4", "--save_steps", "4", "--report_to", "none",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    for noise in ("LOAD REPORT", "Loading weights", "Writing model shards", "{'", "\x1b", "\r", "not sharded"):
        assert noise not in output, noise
    assert output.count("New classifier initialised at random") == 1
    assert re.search(r"^step 2/4  epoch \d+\.\d\d  loss \d+\.\d{4}  grad norm", output, re.M)
    assert re.search(r"^dev at step 4/4 .*: loss \d+\.\d{4}  precision", output, re.M)
