"""scripts/train.sh asks the task registry which task a command trains, what defaults it gets and how it is
launched (tunekit/programs/train_script.py); the script itself names no task. The launched runs are in
test_run_ner_e2e.py, test_run_glue_e2e.py and test_multiprocess.py."""

import os

import pytest

from conftest import REPO
from tunekit import tasks
from tunekit.errors import UserError
from tunekit.programs.train_script import command

SAMPLE = os.path.join(REPO, "data", "ner_sample")


def run(*argv, **environ):
    return command(REPO, "out", list(argv), environ, "python")


def flag(line, name):
    return line[line.index(name) + 1]


def test_the_task_is_a_task_word_or_the_one_that_claims_the_task_name_else_ner():
    assert run()[1].endswith("run_ner.py") and flag(run(), "--num_train_epochs") == "2"
    assert flag(run(), "--data_dir") == SAMPLE  # nothing names data: the bundled sample
    glue = run("glue", "--data_dir", "d")
    assert glue[1].endswith("run_glue.py") and "glue" not in glue and flag(glue, "--num_train_epochs") == "3"
    assert run("--task_name", "mrpc", "--data_dir", "d")[1].endswith("run_glue.py")
    assert run("--task_name=stsb")[1].endswith("run_glue.py") and "--data_dir" not in run("--task_name=stsb")
    assert run("ner", "--task_name", "pos", "--data_dir", "d")[1].endswith("run_ner.py")  # pos is NER's own
    assert "--data_dir" not in run("--corpora", "a=b")[2:-2]  # data named another way: no sample added


def test_the_users_flags_come_last_and_the_launcher_comes_from_the_environment():
    line = run("--num_train_epochs", "5", "--output_dir", "elsewhere")
    assert line[-4:] == ["--num_train_epochs", "5", "--output_dir", "elsewhere"]
    assert line[0] == "python" and line[2:4] == ["--output_dir", "out"]
    assert run(LAUNCHER="torchrun --nproc_per_node 2")[:3] == ["torchrun", "--nproc_per_node", "2"]
    assert run(ACCELERATE_CONFIG="multi_gpu")[:4] == [
        "accelerate", "launch", "--config_file", os.path.join(REPO, "scripts", "accelerate", "multi_gpu.yaml")]
    assert run(ACCELERATE_CONFIG="my/own.yaml")[3] == "my/own.yaml"


def test_a_task_without_a_script_of_its_own_is_a_one_line_error():
    tasks.register("counting", "toy_task:TASK", "toy_task:CountingArguments")
    try:
        with pytest.raises(UserError, match="run tunekit-train counting instead"):
            run("counting")
    finally:
        del tasks.TASKS["counting"]
