"""The seam to the libraries' private names: each still exists as the code uses it, none is used elsewhere, and
a missing one turns its technique off with one warning while the run still trains."""

import importlib
import json
import logging
import os
import re

import pytest
import torch
from transformers import AutoModelForTokenClassification, TrainerCallback, TrainingArguments

from conftest import NER_SAMPLE, REPO
from tunekit import compat
from tunekit.config.arguments import RunArguments
from tunekit.programs.train import train
from tunekit.tasks import get
from tunekit.training.speed.switch import plan_speed
from tunekit.training.trainer import TunekitTrainer

PACKAGE = os.path.join(REPO, "tunekit")


@pytest.mark.parametrize("entry", compat.PRIVATE_NAMES, ids=lambda e: f"{e.owner}.{e.name}")
def test_every_private_name_still_exists_with_the_parameters_we_pass(entry):
    assert compat.problem(entry) is None


def test_trainer_and_accelerate_still_set_the_instance_attributes_we_read(tiny_bert, tmp_path):
    seen = {}

    class Look(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            for name in compat.INSTANCE_ATTRIBUTES["Trainer"]:
                seen[name] = hasattr(trainer, name)
            for name in compat.INSTANCE_ATTRIBUTES["Accelerator"]:
                seen[name] = hasattr(trainer.accelerator, name)

    model = AutoModelForTokenClassification.from_pretrained(tiny_bert, num_labels=2)
    data = [{"input_ids": [101, 7, 8, 102], "labels": [-100, 0, 1, -100]}] * 4
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none", max_steps=1,
                             per_device_train_batch_size=2, save_strategy="no")
    trainer = TunekitTrainer(model=model, args=args, train_dataset=data, callbacks=[Look()])
    trainer.train()
    assert seen and all(seen.values()), seen
    import datasets

    dataset = datasets.Dataset.from_dict({"text": ["a", "b"]})
    assert all(isinstance(getattr(dataset, name), str) for name in compat.INSTANCE_ATTRIBUTES["Dataset"])
    assert compat.dataset_fingerprint(dataset) != compat.dataset_fingerprint(dataset.select([0]))


def own_private_names():
    """Private names tunekit defines itself (methods, attributes, functions), which it may use freely."""
    names = set()
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                text = open(os.path.join(folder, name), encoding="utf-8").read()
                names |= set(re.findall(r"def (_\w+)", text)) | set(re.findall(r"self\.(_\w+)\s*=", text))
                names |= set(re.findall(r"^(_\w+)\s*=", text, re.M))
    return names


def test_private_names_of_the_libraries_are_used_only_through_compat():
    allowed = own_private_names() | {entry.name for entry in compat.PRIVATE_NAMES} | {"_replace"}  # NamedTuple API
    found = []
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            path = os.path.join(folder, name)
            if not name.endswith(".py") or path.endswith("compat.py") or "modeling/taggers" in path:
                continue
            text = open(path, encoding="utf-8").read()
            for match in re.finditer(r"(?<![\w'\"])\.?\b\w+\.(_[a-z]\w*)", text):
                if match.group(1) not in allowed and not match.group(1).startswith(("__", "_tunekit")):
                    found.append(f"{os.path.relpath(path, REPO)}: {match.group(0)}")
            for module in re.findall(r"^\s*from (transformers\.[\w.]+|accelerate\.[\w.]+|torch\.[\w.]+) import", text, re.M):
                if module.split(".")[1].startswith("_") or module in ("transformers.masking_utils", "transformers.integrations.sdpa_attention"):
                    found.append(f"{os.path.relpath(path, REPO)}: from {module}")
    assert not found, found
    # the overrides of Trainer's private methods live in the Trainer subclass only, and are listed in compat
    overridden = set(re.findall(r"def (_[a-z]\w*)", open(os.path.join(PACKAGE, "training", "trainer.py")).read()))
    assert {"_clip_grad_norm", "_get_eval_sampler"} <= overridden
    assert overridden - {"_packer", "_bucket_batch_sampler"} <= {entry.name for entry in compat.PRIVATE_NAMES}


def test_a_changed_private_function_turns_its_technique_off_with_one_warning(tiny_bert, tmp_path, monkeypatch, caplog):
    def fused_adam_without_a_scale_hook(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, found_inf=None):
        raise AssertionError("the plan only reads the signature")

    monkeypatch.setattr(importlib.import_module("torch.optim.adam"), "_fused_adam", fused_adam_without_a_scale_hook)
    monkeypatch.setattr(compat, "_warned", set())
    model = AutoModelForTokenClassification.from_pretrained(tiny_bert, num_labels=2)
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none", do_train=True)
    with caplog.at_level(logging.WARNING, logger="tunekit"):
        plan = plan_speed(model, RunArguments(), args, None, get("ner").speed)
        plan_speed(model, RunArguments(), args, None, get("ner").speed)
    assert not plan.fold_clipping.on and "hook changed" in plan.fold_clipping.why
    warnings = [r.getMessage() for r in caplog.records if "fold clipping is off" in r.getMessage()]
    assert len(warnings) == 1 and "takes no grad_scale" in warnings[0], warnings
    assert plan.used_embedding_rows.on  # the others are unaffected


def ner_run(tiny_bert, output, *extra):
    return train("ner", [
        "--model_name_or_path", tiny_bert, "--data_dir", NER_SAMPLE, "--output_dir", str(output), "--do_train",
        "--do_eval", "--max_train_samples", "64", "--max_eval_samples", "40", "--num_train_epochs", "1",
        "--report_to", "none", "--disable_tqdm", "true", "--save_strategy", "no", *extra,
    ])


@pytest.mark.parametrize("owner, names, technique, plan_line", [
    (torch.cpu, ("_is_avx512_bf16_supported", "_is_amx_tile_supported"), "native bf16", "precision: off (fp32"),
    ("transformers.integrations.sdpa_attention", ("sdpa_attention_forward",), "attention dropout",
     "fast dropout: on"),
])
def test_a_hidden_private_name_turns_its_technique_off_and_the_run_still_trains(
    tiny_bert, tmp_path, monkeypatch, caplog, owner, names, technique, plan_line
):
    module = importlib.import_module(owner) if isinstance(owner, str) else owner
    for name in names:
        monkeypatch.delattr(module, name, raising=False)
    monkeypatch.setattr(compat, "_warned", set())
    with caplog.at_level(logging.INFO, logger="tunekit"):
        assert ner_run(tiny_bert, tmp_path / "out") == 0
    messages = [record.getMessage() for record in caplog.records]
    warnings = [m for m in messages if m.startswith(f"{technique} is off")]
    assert len(warnings) == 1, messages
    assert any(plan_line in m for m in messages), messages
    assert json.loads((tmp_path / "out" / "eval_results.json").read_text())["eval_f1"] >= 0
    if technique == "attention dropout":  # the layers' dropout is still the fast one, attention stays eager
        config = json.loads((tmp_path / "out" / "config.json").read_text())
        assert "tunekit" not in json.dumps(config)
