"""The CUDA branch of the speed plan, run for real on a tiny model and compared with the CPU path: precision, the
attention kernel, length buckets in place of packing, and ONNX Runtime falling back to the CPU beside a GPU.
Skipped, with the reason, where no GPU is present (`python -m pytest -m gpu` runs only these)."""

import json

import pytest
import torch
import yaml

from conftest import quick_ner_flags, run_program
from folders import copy_of

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")]

TEXTS = "Anna Kowalski joined Helix Motors in Oslo last year .\nShares in Orion Telecom fell after Tomas Rossi resigned .\n"


def trained(run, tiny_bert, output, *extra):
    result = run(*quick_ner_flags(tiny_bert, output, "--max_train_samples", "96", "--num_train_epochs", "2",
                                  "--precision", "auto", *extra))
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr, json.load(open(output / "all_results.json")), \
        yaml.safe_load((output / "run_config.yaml").read_text())


@pytest.fixture(scope="module")
def runs(tiny_bert, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gpu")
    return {"gpu": (folder / "gpu", *trained(run_program, tiny_bert, folder / "gpu")),
            "cpu": (folder / "cpu", *trained(run_program, tiny_bert, folder / "cpu", "--use_cpu"))}


def test_the_plan_on_a_gpu_uses_length_buckets_its_precision_and_kernel(runs):
    _, log, _, settled = runs["gpu"]
    assert "packing: off (on GPUs a per-sentence 4D mask" in log
    assert "length buckets: on" in log and "fast dropout: off (CPU only" in log
    assert settled.get("bf16", False) is torch.cuda.is_bf16_supported(), settled  # --precision auto: native bf16
    assert "attention: on (sdpa, auto: the model's default on this accelerator)" in log
    assert "packing: on" in runs["cpu"][1]  # the CPU run of the same command packs


def test_the_gpu_run_learns_what_the_cpu_run_learns(runs):
    gpu, cpu = runs["gpu"][2], runs["cpu"][2]
    assert gpu["train_loss"] == pytest.approx(cpu["train_loss"], rel=0.1)
    assert gpu["eval_loss"] == pytest.approx(cpu["eval_loss"], rel=0.1)


def test_onnxruntime_falls_back_to_the_cpu_beside_a_gpu_and_matches_pytorch(runs, tmp_path):
    folder = copy_of(runs["gpu"][0], tmp_path)
    by_torch = run_program("sh", "scripts/predict.sh", str(folder), input_text=TEXTS)
    by_runtime = run_program("sh", "scripts/predict.sh", str(folder), "--backend", "onnxruntime", input_text=TEXTS)
    assert by_torch.returncode == 0 and by_runtime.returncode == 0, by_runtime.stderr[-3000:]
    expected, actual = ([json.loads(line) for line in run.stdout.splitlines()] for run in (by_torch, by_runtime))
    assert [[(e["type"], e["start"], e["end"]) for e in r["entities"]] for r in actual] == \
        [[(e["type"], e["start"], e["end"]) for e in r["entities"]] for r in expected]
