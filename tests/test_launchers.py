"""Launchers (torchrun, accelerate launch) around the run scripts: a classifier in two processes predicts every
example once, train.sh runs unchanged under either launcher, the accelerate configs load; streaming a local file."""

import json
import os
import random

import pytest
import yaml

from conftest import REPO, conll_sentences, launch, run_program
from test_multiprocess import CPU_ENV, TORCHRUN, ner_flags, train_in


@pytest.mark.slow
def test_glue_two_processes_predict_every_example_once(tiny_bert, tmp_path):
    rng = random.Random(0)
    for name, count in (("train.tsv", 64), ("dev.tsv", 23), ("test.tsv", 29)):
        rows = ["sentence\tlabel"] + [
            f"{' '.join(rng.sample(['good', 'bad', 'film', 'plot', 'cast', 'very'], 4))}\t{rng.choice(['pos', 'neg'])}"
            for _ in range(count)
        ]
        (tmp_path / name).write_text("\n".join(rows) + "\n")
    flags = [
        "--model_name_or_path", tiny_bert, "--data_dir", str(tmp_path), "--do_train", "--do_eval", "--do_predict",
        "--num_train_epochs", "1", "--per_device_eval_batch_size", "4", "--save_strategy", "no",
        "--report_to", "none", "--disable_tqdm", "true",
    ]
    single = train_in(1, "run_glue.py", flags + ["--output_dir", str(tmp_path / "one")])
    assert single.returncode == 0, single.stderr[-3000:]
    double = train_in(2, "run_glue.py", flags + ["--output_dir", str(tmp_path / "two")])
    assert double.returncode == 0, double.stderr[-3000:]
    one = (tmp_path / "one" / "predict_results_classification.txt").read_text().splitlines()
    two = (tmp_path / "two" / "predict_results_classification.txt").read_text().splitlines()
    assert len(two) == len(one) == 30
    assert [line.split("\t")[0] for line in two] == [line.split("\t")[0] for line in one]
    results = json.load(open(tmp_path / "two" / "all_results.json"))
    assert results["eval_samples"] == 23 and results["predict_samples"] == 29


@pytest.mark.parametrize("name", sorted(os.listdir(os.path.join(REPO, "scripts", "accelerate"))))
def test_accelerate_configs_load(name):
    from accelerate.commands.config.config_args import load_config_from_file

    path = os.path.join(REPO, "scripts", "accelerate", name)
    config = load_config_from_file(path)
    with open(path) as stream:
        raw = yaml.safe_load(stream)
    assert config.distributed_type.value == raw["distributed_type"] or str(config.distributed_type) == raw["distributed_type"]
    assert config.num_processes == raw["num_processes"]


@pytest.mark.slow
def test_streaming_a_local_file_trains_for_max_steps(tiny_bert, tmp_path):
    flags = ner_flags(tiny_bert, tmp_path / "streamed") + ["--streaming", "--max_steps", "12"]
    result = run_program("run_ner.py", *flags)
    assert result.returncode == 0, result.stderr[-3000:]
    state = json.load(open(tmp_path / "streamed" / "trainer_state.json"))
    assert state["global_step"] == 12
    assert len(conll_sentences(tmp_path / "streamed" / "predictions.txt")) == 41
    refused = run_program("run_ner.py", *ner_flags(tiny_bert, tmp_path / "refused"), "--streaming")
    assert refused.returncode == 2 and "--streaming needs --max_steps" in refused.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "launcher, steps",
    [({"LAUNCHER": f"{TORCHRUN} --nproc_per_node 2"}, 10), ({"ACCELERATE_CONFIG": "single_gpu"}, 20)],
    ids=["torchrun-2-processes", "accelerate-config"],
)
def test_train_script_runs_under_a_launcher(tiny_bert, tmp_path, launcher, steps):
    bin_dir = os.path.dirname(os.sys.executable)
    result = launch(
        "sh", os.path.join(REPO, "scripts", "train.sh"), str(tmp_path / "out"),
        "--model_name_or_path", tiny_bert, "--max_train_samples", "160", "--max_eval_samples", "20",
        "--max_predict_samples", "20", "--num_train_epochs", "1", "--per_device_train_batch_size", "8",
        "--save_strategy", "no", "--eval_strategy", "no",
        env=dict(CPU_ENV, PATH=bin_dir + os.pathsep + os.environ["PATH"], **launcher),
        cwd=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.load(open(tmp_path / "out" / "trainer_state.json"))["global_step"] == steps  # 160 / (8 x processes)
    assert len(conll_sentences(tmp_path / "out" / "predictions.txt")) == 20
