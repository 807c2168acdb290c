"""predict.sh at corpus scale: answers are written as they come, a rerun of the same command continues after the
last complete chunk (the finished file is byte for byte an uninterrupted run's, whatever was cut), the output path
is checked before any work, and the progress is a line on a terminal, plain lines in a log."""

import io
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from conftest import REPO, run_program
from tunekit.inference.progress import Progress
from tunekit.inference.resumable_output import NOTE_SUFFIX, ResumableOutput

PREDICT = os.path.join(REPO, "scripts", "predict.sh")
WORDS = ("Anna", "Kowalski", "joined", "Helix", "Motors", "in", "Oslo", "last", "year", "Police", "Lisbon", "said",
         "Orion", "Telecom", "fell", ".", "Tomas", "Rossi", "flew", "to", "Kyoto")


def corpus(path, lines: int, seed: int = 0) -> str:
    """Sentences of varied length (a few blank lines among them), one per line."""
    rng = random.Random(seed)
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 30))) for _ in range(lines)]
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    return str(path)


def predict(model, *flags):
    return run_program("sh", PREDICT, str(model), "--quiet", *flags)


def test_an_output_cut_anywhere_is_continued_to_the_bytes_of_an_uninterrupted_run(trained_ner, tmp_path, monkeypatch):
    texts = corpus(tmp_path / "texts.txt", 300)
    whole = tmp_path / "whole.jsonl"
    assert predict(trained_ner, "--input", texts, "--output", str(whole), "--batch_size", "2").returncode == 0
    expected = whole.read_bytes()
    assert expected.count(b"\n") == 300 and not os.path.exists(str(whole) + NOTE_SUFFIX)  # finished: no note left
    # the run as a kill would leave it: the note stays and the output is cut (chunks of 2 x 64 = 128 lines)
    monkeypatch.setattr(ResumableOutput, "finish", ResumableOutput.close)
    cut = tmp_path / "cut.jsonl"
    assert predict(trained_ner, "--input", texts, "--output", str(cut), "--batch_size", "2").returncode == 0
    monkeypatch.undo()
    note = (tmp_path / ("cut.jsonl" + NOTE_SUFFIX)).read_text()
    line_ends = [index + 1 for index, byte in enumerate(expected) if byte == ord("\n")]
    for end in (0, line_ends[99] - 7, line_ends[127], line_ends[127] + 3, line_ends[200], len(expected) - 1):
        cut.write_bytes(expected[:end])
        (tmp_path / ("cut.jsonl" + NOTE_SUFFIX)).write_text(note)
        again = predict(trained_ner, "--input", texts, "--output", str(cut), "--batch_size", "2")
        assert again.returncode == 0, again.stderr[-2000:]
        assert cut.read_bytes() == expected, end
        kept = 128 if line_ends[127] <= end < line_ends[255] else 256 if end >= line_ends[255] else 0
        assert (f"{kept} lines were answered by an earlier run" in again.stderr) == bool(kept)
    # another command's partial output is not continued: a changed batch size starts afresh
    cut.write_bytes(expected[:line_ends[200]])
    (tmp_path / ("cut.jsonl" + NOTE_SUFFIX)).write_text(note)
    afresh = predict(trained_ner, "--input", texts, "--output", str(cut), "--batch_size", "4")
    assert afresh.returncode == 0 and "earlier run" not in afresh.stderr and cut.read_bytes().count(b"\n") == 300


def test_the_output_path_is_checked_before_any_work(trained_ner, tmp_path):
    texts = corpus(tmp_path / "texts.txt", 3)
    before = (tmp_path / "texts.txt").read_bytes()
    for output, message in ((tmp_path, "is a folder"), (texts, "is the input file"),
                            (tmp_path / "missing" / "out.jsonl", "does not exist")):
        result = predict(trained_ner, "--input", texts, "--output", str(output))
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert (tmp_path / "texts.txt").read_bytes() == before
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        result = predict(trained_ner, "--input", texts, "--output", str(locked / "out.jsonl"))
        assert result.returncode == 2 and "permission denied" in result.stderr


def test_progress_is_one_redrawn_line_on_a_terminal_and_plain_lines_in_a_log():
    now = [0.0]

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    log, terminal = io.StringIO(), Terminal()
    for stream in (log, terminal):
        now[0] = 0.0
        progress = Progress(10_000, start=1_000, stream=stream, clock=lambda: now[0])
        for _ in range(90):
            now[0] += 1.0
            progress.advance(100)
        progress.close()
    assert "\r" not in log.getvalue() and "\x1b" not in log.getvalue()
    lines = log.getvalue().splitlines()
    assert len(lines) == 4  # every 30 s of 90, and the last figures
    assert lines[0] == "Predicting: 4,000 of 10,000 lines (100.0 lines/s, 1 min 0 s left)"
    assert lines[-1] == "Predicting: 10,000 of 10,000 lines (100.0 lines/s)"
    assert terminal.getvalue().count("\r") > 80 and terminal.getvalue().endswith("\n")


@pytest.mark.slow
def test_kill_9_at_any_moment_loses_nothing_and_the_rerun_writes_the_bytes_of_an_uninterrupted_run(trained_ner, tmp_path):
    """predict.sh is killed as a process (SIGKILL is the thing under test); the rerun runs here."""
    texts = corpus(tmp_path / "texts.txt", 3000, seed=1)
    whole, killed = tmp_path / "whole.jsonl", tmp_path / "killed.jsonl"
    flags = ("--input", texts, "--batch_size", "1")
    assert predict(trained_ner, *flags, "--output", str(whole)).returncode == 0
    # as many torch threads as this process uses: the scores are the same to the last bit only with the same threads
    env = dict(os.environ, OMP_NUM_THREADS=str(torch.get_num_threads()))
    process = subprocess.Popen(["sh", PREDICT, str(trained_ner), "--quiet", *flags, "--output", str(killed)], cwd=REPO,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while (not killed.exists() or killed.stat().st_size < 40_000) and process.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    assert process.poll() is None, "the prediction ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert 0 < killed.read_bytes().count(b"\n") < 3000
    again = predict(trained_ner, *flags, "--output", str(killed))
    assert again.returncode == 0, again.stderr[-2000:]
    assert "lines were answered by an earlier run of this command" in again.stderr
    assert killed.read_bytes() == whole.read_bytes()
    assert [json.loads(line)["text"] for line in killed.read_text().splitlines()] == \
        (tmp_path / "texts.txt").read_text().splitlines()


def test_progress_without_a_known_size_counts_lines_only():
    progress = Progress(None, stream=io.StringIO(), clock=lambda: 10.0)
    progress.done = 50
    assert progress.line().startswith("Predicting: 50 lines (")
