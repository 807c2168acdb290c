"""A run killed with SIGKILL and restarted with the same command ends like an uninterrupted one; runs repeat exactly."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from conftest import NER_SAMPLE, REPO, run_program

SCORES = ("eval_f1", "eval_precision", "eval_recall", "eval_accuracy", "eval_loss")


def flags(model, output_dir):
    return [
        "run_ner.py",
        "--model_name_or_path", model,
        "--data_dir", NER_SAMPLE,
        "--output_dir", str(output_dir),
        "--do_train", "--do_eval",
        "--max_train_samples", "800",
        "--max_eval_samples", "100",
        "--max_steps", "200",
        "--per_device_train_batch_size", "4",
        "--learning_rate", "1e-3",
        "--save_steps", "20",
        "--report_to", "none",
        "--disable_tqdm", "true",
        "--seed", "7",
    ]


def finish(model, output_dir):
    result = run_program(*flags(model, output_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    with open(output_dir / "eval_results.json") as stream:
        results = json.load(stream)
    with open(output_dir / "train_results.json") as stream:
        results["train_loss"] = round(json.load(stream)["train_loss"], 5)  # of the whole training, however resumed
    return {key: results[key] for key in SCORES + ("train_loss",)}, result


@pytest.fixture(scope="module")
def reference(tiny_bert, tmp_path_factory):
    """The metrics of one uninterrupted run of the command."""
    return finish(tiny_bert, tmp_path_factory.mktemp("reference") / "out")[0]


@pytest.mark.slow
def test_same_command_twice_gives_identical_metrics(tiny_bert, tmp_path, reference):
    second, _ = finish(tiny_bert, tmp_path / "second")
    assert second == reference


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_metrics(tiny_bert, tmp_path, reference):
    """The run is killed as a process (SIGKILL is the thing under test); the rerun that resumes it runs here."""
    output_dir = tmp_path / "killed"
    # as many torch threads as the runs in this process use (one per xdist worker): the sums, and so the
    # metrics, are the same to the last bit only with the same threads
    env = dict(os.environ, OMP_NUM_THREADS=str(torch.get_num_threads()))
    process = subprocess.Popen([sys.executable, *flags(tiny_bert, output_dir)], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    marker = output_dir / "checkpoint-60" / "trainer_state.json"
    deadline = time.time() + 300
    while not marker.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "training ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (output_dir / "eval_results.json").exists()
    assert not (output_dir / "model.safetensors").exists()
    resumed, result = finish(tiny_bert, output_dir)
    assert "Resuming from" in result.stdout + result.stderr
    assert resumed == reference
    train = json.loads((output_dir / "train_results.json").read_text())
    assert train["train_resumed_at_step"] >= 60 and train["train_runtime"] > 0
    # the model card says so too (formatted from the file's value: rounding the rounded figure could differ)
    assert f"final average training loss {train['train_loss']:.4f}" in (output_dir / "README.md").read_text()


@pytest.mark.parametrize("number, name, code", [(signal.SIGINT, "Ctrl-C", 130), (signal.SIGTERM, "SIGTERM", 143)],
                         ids=["ctrl-c", "sigterm"])
def test_a_signal_stops_training_at_the_next_step_with_its_checkpoint_and_one_line(tiny_bert, tmp_path, monkeypatch,
                                                                                  number, name, code):
    """Ctrl-C (or SIGTERM from a scheduler) in the third step: that step is saved, the run ends with one line that
    says so, and the same command continues from it to the end."""
    from conftest import quick_ner_flags
    from tunekit.training.trainer import TunekitTrainer

    step, steps = TunekitTrainer.training_step, []

    def signalled(self, *args, **kwargs):
        steps.append(1)
        if len(steps) == 3:
            os.kill(os.getpid(), number)
        return step(self, *args, **kwargs)

    output, before = tmp_path / "out", signal.getsignal(number)
    monkeypatch.setattr(TunekitTrainer, "training_step", signalled)
    stopped = run_program(*quick_ner_flags(tiny_bert, output))
    monkeypatch.undo()
    assert stopped.returncode == code and "Traceback" not in stopped.stderr
    assert stopped.stderr.strip().splitlines()[-1] == (
        f"error: {name}: training stopped at step 3, saved as {output}/checkpoint-3; the same command continues from it")
    assert (output / "checkpoint-3" / "trainer_state.json").exists() and not (output / "train_results.json").exists()
    assert signal.getsignal(number) == before  # put back as it was
    again = run_program(*quick_ner_flags(tiny_bert, output))
    assert again.returncode == 0, again.stderr[-2000:]
    assert "Resuming from" in again.stdout + again.stderr
    assert json.loads((output / "trainer_state.json").read_text())["global_step"] == 6


@pytest.mark.parametrize("damage", ["model.safetensors", "optimizer.pt", "trainer_state.json"])
def test_a_checkpoint_that_does_not_load_is_skipped_and_the_run_resumes_from_the_one_before(tiny_bert, tmp_path,
                                                                                          damage):
    """The newest checkpoint's weights cut short, its optimizer state cut short or its state not JSON (a full disk,
    a kill while copying): the rerun says which and why, and continues from the checkpoint before it."""
    from conftest import quick_ner_flags

    output = tmp_path / "out"
    flags = quick_ner_flags(tiny_bert, output, "--save_strategy", "steps", "--save_steps", "2",
                            "--save_total_limit", "3", "--max_steps", "4")
    assert run_program(*flags).returncode == 0
    (output / "train_results.json").unlink()  # as a run stopped before its end leaves the folder
    damaged = output / "checkpoint-4" / damage
    damaged.write_bytes(damaged.read_bytes()[: len(damaged.read_bytes()) // 2])
    again = run_program(*flags)
    assert again.returncode == 0, again.stderr[-2000:]
    log = again.stdout + again.stderr
    problem = "is not valid JSON" if damage == "trainer_state.json" else f"{damage} is truncated or corrupt"
    assert f"Skipping {output}/checkpoint-4: " in log and problem in log
    assert f"Resuming from {output}/checkpoint-2" in log
    assert json.loads((output / "trainer_state.json").read_text())["global_step"] == 4
