"""An output folder belongs to one run at a time: a second run stops with one line naming the first, a lock left
by a killed run is taken over, predict.sh refuses a folder a training is writing, and no lock outlives its run."""

import json
import os
import socket
import subprocess
import time

import pytest

from conftest import quick_ner_flags, run_program
from tunekit.folder_lock import LOCK_FILE, process_start

PREDICT = ("sh", "scripts/predict.sh")


def lock(folder, pid: int, doing: str = "training") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOCK_FILE).write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "started": time.time(),
                                                "process_start": process_start(pid), "doing": doing}))


@pytest.fixture
def live_process():
    """A process that runs while the test does (the first run, as far as the lock can tell)."""
    process = subprocess.Popen(["sleep", "120"])
    yield process.pid
    process.kill()
    process.wait()


def test_a_second_run_into_a_folder_in_use_stops_with_one_line_naming_the_first(tiny_bert, tmp_path, live_process):
    folder = tmp_path / "out"
    lock(folder, live_process)
    result = run_program(*quick_ner_flags(tiny_bert, folder))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"training (process {live_process}, since " in result.stderr and "is using this folder" in result.stderr
    assert sorted(os.listdir(folder)) == [LOCK_FILE]  # nothing written, the first run's lock kept
    assert json.loads((folder / LOCK_FILE).read_text())["pid"] == live_process


def test_a_lock_whose_run_is_gone_is_taken_over_and_no_lock_outlives_its_run(tiny_bert, tmp_path, live_process):
    gone = subprocess.Popen(["true"])
    gone.wait()  # its pid names no process now
    folder = tmp_path / "out"
    lock(folder, gone.pid)
    result = run_program(*quick_ner_flags(tiny_bert, folder))
    assert result.returncode == 0, result.stderr[-2000:]
    log = result.stdout + result.stderr
    assert f"the lock of training (process {gone.pid}" in log and "is taken over" in log
    assert not (folder / LOCK_FILE).exists() and (folder / "all_results.json").exists()
    # eval.sh on that folder while a training holds it says so; predict.sh too, and both leave it alone
    lock(folder, live_process)
    evaluated = run_program("sh", "scripts/eval.sh", str(folder))
    assert evaluated.returncode == 2 and f"process {live_process}" in evaluated.stderr
    predicted = run_program(*PREDICT, str(folder), input_text="Anna flew to Oslo .\n")
    assert predicted.returncode == 2 and predicted.stdout == ""
    assert predicted.stderr.strip().endswith("is writing this folder; use it when the training has finished")
    # a folder that is only being evaluated can be predicted with
    lock(folder, live_process, "evaluation")
    assert run_program(*PREDICT, str(folder), input_text="Anna flew to Oslo .\n").returncode == 0


def test_what_a_lock_says_about_its_run(tmp_path):
    """Another host's run counts as running (its process cannot be looked at from here); an unreadable lock is
    taken over."""
    from tunekit.folder_lock import described, folder_lock, holder_of, running

    assert running({"host": "elsewhere", "pid": 1}) and "process 1 on elsewhere" in described({"host": "elsewhere", "pid": 1})
    assert not running({"host": socket.gethostname(), "pid": "not a number"})
    (tmp_path / LOCK_FILE).write_text("{not json")
    assert holder_of(str(tmp_path)) == {}
    with folder_lock(str(tmp_path), "evaluation"):
        assert holder_of(str(tmp_path))["doing"] == "evaluation"
    assert holder_of(str(tmp_path)) is None
