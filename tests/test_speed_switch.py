"""The speed switch decides every technique in one place, from the model, the arguments, the data and the
hardware, and says why."""

import dataclasses

import pytest
from transformers import AutoModelForTokenClassification, TrainingArguments

from tunekit.config.arguments import RunArguments
from tunekit.encoding.lengths import add_lengths
from tunekit.modeling.taggers import with_crf
from tunekit.training.speed import switch
from tunekit.training.speed.switch import plan_speed
from tunekit.tasks import get


@pytest.fixture
def model(tiny_bert):
    return AutoModelForTokenClassification.from_pretrained(tiny_bert, num_labels=3)


@pytest.fixture
def train_data():
    import datasets

    rows = [[101, 7, 8, 102], [101, 9, 102]]
    return add_lengths(datasets.Dataset.from_dict({"input_ids": rows, "labels": [[0] * len(r) for r in rows]}))


def training_args(tmp_path, **extra):
    return TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none", do_train=True, **extra)


def test_the_default_path_on_cpu_for_token_classification(model, train_data, tmp_path):
    plan = plan_speed(model, RunArguments(), training_args(tmp_path), train_data, get("ner").speed)
    on = {name for name in switch.ON_ORDER if getattr(plan, name).on}
    assert on >= {"attention", "packing", "token_normaliser", "sorted_evaluation", "fast_dropout",
                  "used_embedding_rows", "fold_clipping"}
    assert not plan.length_buckets.on and "packing" in plan.length_buckets.why
    assert len(plan.lines()) == len(switch.ON_ORDER)
    assert all(line.split(": ")[1].startswith(("on (", "off (")) for line in plan.lines())


def test_sequence_classification_trains_on_buckets_with_each_batchs_mean(model, train_data, tmp_path):
    plan = plan_speed(model, RunArguments(), training_args(tmp_path), train_data, get("classification").speed)
    assert not plan.packing.on and plan.length_buckets.on and not plan.token_normaliser.on
    assert not plan.equal_token_batches


@pytest.mark.parametrize("flags, off, reason", [
    ({"length_bucketing": False}, ("packing", "length_buckets", "sorted_evaluation", "token_normaliser"), "--no_length_bucketing"),
    ({"pack_sequences": False}, ("packing",), "--no_pack_sequences"),
    ({"fast_dropout": False}, ("fast_dropout",), "--no_fast_dropout"),
    ({"skip_unused_embedding_rows": False}, ("used_embedding_rows",), "--no_skip_unused_embedding_rows"),
    ({"fold_clipping": False}, ("fold_clipping",), "--no_fold_clipping"),
])
def test_each_flag_turns_its_technique_off_and_says_so(model, train_data, tmp_path, flags, off, reason):
    plan = plan_speed(model, RunArguments(**flags), training_args(tmp_path), train_data, get("ner").speed)
    for name in off:
        assert not getattr(plan, name).on and reason in getattr(plan, name).why, (name, getattr(plan, name))


def test_training_arguments_that_rule_a_technique_out(model, train_data, tmp_path):
    plan = plan_speed(model, RunArguments(), training_args(tmp_path, weight_decay=0.01, optim="adamw_torch"),
                      train_data, get("ner").speed)
    assert not plan.used_embedding_rows.on and "weight decay" in plan.used_embedding_rows.why
    assert not plan.fold_clipping.on and "fused" in plan.fold_clipping.why
    evaluating = dataclasses.replace(training_args(tmp_path), do_train=False)
    plan = plan_speed(model, RunArguments(), evaluating, None, get("ner").speed)
    assert plan.sorted_evaluation.on and not any(
        getattr(plan, name).on for name in ("packing", "fast_dropout", "used_embedding_rows", "fold_clipping"))


def test_a_crf_is_not_packed_but_trains_on_buckets(model, train_data, tmp_path):
    plan = plan_speed(with_crf(model, model.config), RunArguments(), training_args(tmp_path), train_data, get("ner").speed)
    assert not plan.packing.on and "cannot take packed sentences" in plan.packing.why and plan.length_buckets.on


def test_on_a_gpu_the_cpu_only_techniques_and_packing_stay_off(model, train_data, tmp_path, monkeypatch):
    monkeypatch.setattr(switch, "has_accelerator", lambda: True)
    plan = plan_speed(model, RunArguments(), training_args(tmp_path), train_data, get("ner").speed)
    assert not plan.fast_dropout.on and "CPU only" in plan.fast_dropout.why
    assert not plan.packing.on and "GPU" in plan.packing.why
    assert plan.length_buckets.on and plan.token_normaliser.on and plan.used_embedding_rows.on


def test_search_trials_leave_the_embedding_rows_alone(model, train_data, tmp_path):
    plan = plan_speed(model, RunArguments(), training_args(tmp_path), train_data, get("ner").speed)
    trials = plan.for_search_trials()
    assert plan.used_embedding_rows.on and not trials.used_embedding_rows.on and trials.packing == plan.packing
