"""Flags or one JSON/YAML file, official argument names, and clear errors for unknown ones."""

import dataclasses
import json
import os
import sys

import pytest

from conftest import REPO, launch, run_program, train_flags
from tunekit.config.arguments import parse_arguments
from tunekit.errors import UserError
from tunekit.tasks.ner_arguments import NerDataArguments

OFFICIAL_NER_FIELDS = [
    "max_train_samples", "max_eval_samples", "max_predict_samples", "pad_to_max_length", "label_all_tokens",
    "return_entity_level_metrics", "text_column_name", "label_column_name", "dataset_name",
    "dataset_config_name", "train_file", "validation_file", "test_file", "max_seq_length", "task_name",
    "overwrite_cache", "preprocessing_num_workers",
]


def test_official_run_ner_argument_names_are_all_accepted():
    fields = {field.name: field for field in dataclasses.fields(NerDataArguments)}
    assert all(name in fields for name in OFFICIAL_NER_FIELDS)
    assert all(field.metadata.get("help") for field in fields.values())


def test_flags_and_json_and_yaml_give_the_same_arguments(tmp_path):
    flags = ["--output_dir", str(tmp_path / "o"), "--train_file", "t.txt", "--label_all_tokens", "--do_train"]
    from_flags = parse_arguments(NerDataArguments, flags)
    config = {"output_dir": str(tmp_path / "o"), "train_file": "t.txt", "label_all_tokens": True, "do_train": True}
    (tmp_path / "c.json").write_text(json.dumps(config))
    (tmp_path / "c.yaml").write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in config.items()))
    for parsed in (parse_arguments(NerDataArguments, [str(tmp_path / "c.json")]),
                   parse_arguments(NerDataArguments, [str(tmp_path / "c.yaml")])):
        assert parsed[1] == from_flags[1]
        assert parsed[3].do_train and parsed[3].output_dir == str(tmp_path / "o")


def test_unknown_flags_and_keys_are_errors(tmp_path):
    with pytest.raises(UserError, match="--no_such_flag"):
        parse_arguments(NerDataArguments, ["--output_dir", "o", "--no_such_flag", "1"])
    (tmp_path / "c.json").write_text(json.dumps({"output_dir": "o", "no_such_key": 1}))
    with pytest.raises(UserError, match="no_such_key"):
        parse_arguments(NerDataArguments, [str(tmp_path / "c.json")])


def test_invalid_values_are_one_line_errors():
    with pytest.raises(UserError, match="--task_name must be one of ner, pos, chunk"):
        parse_arguments(NerDataArguments, ["--output_dir", "o", "--task_name", "srl"])
    with pytest.raises(UserError, match="--length_bucket_batches must be 1 or more"):
        parse_arguments(NerDataArguments, ["--output_dir", "o", "--length_bucket_batches", "0"])


def test_abbreviations_are_not_flags_and_typos_name_the_nearest_ones():
    with pytest.raises(UserError, match=r"^unknown flag --learning_rat; did you mean --learning_rate"):
        parse_arguments(NerDataArguments, ["--output_dir", "o", "--learning_rat", "1e-4"])
    with pytest.raises(UserError, match=r"^unknown flag --no_fast_dropuot; did you mean --no_fast_dropout"):
        parse_arguments(NerDataArguments, ["--output_dir", "o", "--no_fast_dropuot"])
    with pytest.raises(UserError, match=r"^invalid arguments: argument --learning_rate.*invalid float value: 'fast'"):
        parse_arguments(NerDataArguments, ["--output_dir", "o", "--learning_rate", "fast"])


def test_the_output_folder_must_be_named(tmp_path):
    with pytest.raises(UserError, match=r"^no --output_dir: say where the model and results go"):
        parse_arguments(NerDataArguments, ["--do_train"])
    (tmp_path / "c.json").write_text(json.dumps({"do_train": True}))
    with pytest.raises(UserError, match=r"c.json: no output_dir key"):
        parse_arguments(NerDataArguments, [str(tmp_path / "c.json")])


@pytest.mark.parametrize("script", ["run_ner.py", "run_glue.py"])
def test_help_lists_our_flags_first(script):
    result = run_program(script, "--help", env={"COLUMNS": "100"})  # the width follows COLUMNS (80 in xdist's workers)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.index("--model_name_or_path") < text.index("--early_stopping_patience") < text.index("--num_train_epochs")
    assert "--help_all" in text and len(text.splitlines()) < 250
    everything = run_program(script, "--help_all")
    assert everything.returncode == 0 and "--lr_scheduler_type" in everything.stdout


@pytest.mark.slow
@pytest.mark.parametrize("script", ["run_ner.py", "run_glue.py"])
def test_help_answers_without_importing_torch(script):
    """A fresh interpreter, since this one has torch loaded: what the process imports is the thing under test."""
    probe = launch(sys.executable, "-c", f"import runpy, sys; sys.argv = ['{script}', '--help']\n"
                   f"try:\n    runpy.run_path('{script}', run_name='__main__')\nexcept SystemExit:\n    pass\n"
                   "print('torch' in sys.modules, 'transformers' in sys.modules)")
    assert probe.stdout.strip().splitlines()[-1] == "False False", probe.stderr[-2000:]
    assert "--early_stopping_patience" in probe.stdout


@pytest.mark.slow
def test_the_saved_run_config_holds_the_settled_arguments_and_repeats_the_run(tiny_bert, tmp_path):
    import yaml

    first = tmp_path / "first"
    result = run_program(*train_flags(
        tiny_bert, first, "--max_seq_length", "auto", "--early_stopping_patience", "2", "--num_train_epochs", "1",
        "--max_train_samples", "200", "--save_strategy", "no", "--precision", "fp32",
    ))
    assert result.returncode == 0, result.stderr[-2000:]
    assert (first / "run_config.yaml").read_text().startswith("# The settled arguments of this run: `python run_ner.py")
    saved = yaml.safe_load((first / "run_config.yaml").read_text())
    # settled values, not the requests: a number for auto, the early-stopping schedule, the attention kernels
    assert isinstance(saved["max_seq_length"], int) and saved["max_seq_length"] < 128
    assert saved["load_best_model_at_end"] is True and saved["metric_for_best_model"] == "f1"
    assert saved["eval_strategy"] == saved["save_strategy"] == "epoch"
    assert saved["attn_implementation"] == "eager" and "bf16" not in saved
    assert os.path.isabs(saved["data_dir"]) and "token" not in saved and "hub_token" not in saved

    second = tmp_path / "second"
    replay = tmp_path / "replay.yaml"
    replay.write_text(yaml.safe_dump(dict(saved, output_dir=str(second))))
    result = run_program(os.path.join(REPO, "run_ner.py"), str(replay), cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    timing = ("runtime", "per_second")
    for name in ("eval_results.json", "predict_results.json"):
        scores = [{k: v for k, v in json.loads((run / name).read_text()).items() if not k.endswith(timing)}
                  for run in (first, second)]
        assert scores[0] == scores[1]
    assert (first / "predictions.txt").read_text() == (second / "predictions.txt").read_text()
    assert yaml.safe_load((second / "run_config.yaml").read_text()) == dict(saved, output_dir=str(second))


def test_run_arguments_are_groups_of_one_purpose_and_training_only_is_a_group_property():
    """RunArguments is made of its groups in flag order; what evaluating a folder leaves out of the replayed run
    is every field of a group that says training_only, and the model and data fields marked so."""
    from tunekit.config.arguments import RUN_GROUPS, ModelArguments, RunArguments, training_only_arguments
    from tunekit.tasks.classification_arguments import ClassificationDataArguments

    grouped = [item.name for group in RUN_GROUPS for item in dataclasses.fields(group)]
    assert [item.name for item in dataclasses.fields(RunArguments)] == grouped and len(set(grouped)) == len(grouped)
    only = training_only_arguments(ModelArguments, ClassificationDataArguments)
    assert {"distill_from", "distill_text", "seeds", "hp_search_trials", "export_onnx", "objective_terms",
            "model_name_or_path", "max_train_samples", "tune_thresholds"} <= set(only)
    assert not {"backend", "quantize", "precision", "class_weights", "max_eval_samples", "quiet"} & set(only)
    for group in RUN_GROUPS:  # each group checks its own values, every one through RunArguments
        assert all(item.name in grouped for item in dataclasses.fields(group))
    with pytest.raises(ValueError, match="--distill_temperature must be more than 0"):
        RunArguments(distill_from="teacher", distill_temperature=0)
    with pytest.raises(ValueError, match="--length_bucket_batches must be 1 or more"):
        RunArguments(length_bucket_batches=0)
