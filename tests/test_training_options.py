"""Training options: frozen parts, learning-rate groups, early stopping, and their combinations with
gradient checkpointing and accumulation."""

import json

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForTokenClassification, TrainingArguments

from tunekit.modeling.taggers import with_crf
from tunekit.errors import UserError
from tunekit.training.optimization import freeze, parameter_depths, parameter_groups
from tunekit.training.trainer import TunekitTrainer

from conftest import quick_ner_flags, run_program, train_flags


def token_model(folder):
    return AutoModelForTokenClassification.from_pretrained(folder, num_labels=5)


def test_depths_follow_the_encoder_layers(tiny_bert):
    depths, layers = parameter_depths(token_model(tiny_bert))
    assert layers == 2
    assert depths["bert.embeddings.word_embeddings.weight"] == 0
    assert depths["bert.encoder.layer.0.attention.self.query.weight"] == 1
    assert depths["bert.encoder.layer.1.output.dense.bias"] == 2
    assert depths["classifier.weight"] is None


def test_the_crf_models_classifier_belongs_to_the_head(tiny_bert):
    model = token_model(tiny_bert)
    model = with_crf(model, model.config)
    depths, layers = parameter_depths(model)
    assert layers == 2
    assert depths["tagger.bert.embeddings.word_embeddings.weight"] == 0
    assert depths["tagger.bert.encoder.layer.1.output.dense.weight"] == 2
    assert depths["tagger.classifier.weight"] is None and depths["crf.transitions"] is None
    freeze(model, encoder=True)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"tagger.classifier.weight", "tagger.classifier.bias", "crf.transitions",
                         "crf.start_transitions", "crf.end_transitions"}


def test_freezing_the_encoder_or_its_lower_layers(tiny_bert):
    model = token_model(tiny_bert)
    freeze(model, encoder=True)
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["classifier.weight", "classifier.bias"]
    model = token_model(tiny_bert)
    freeze(model, layers=1)
    trainable = {n.split(".")[1] + n.split(".")[3] if ".layer." in n else n.split(".")[1]
                 for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"encoder1", "weight", "bias"}  # layer 1 and the classifier, not embeddings or layer 0
    with pytest.raises(UserError, match="only 2 layers"):
        freeze(token_model(tiny_bert), layers=3)


def test_head_rate_layer_decay_and_no_decay_on_bias_and_norms(tiny_bert, tmp_path):
    model = token_model(tiny_bert)
    args = TrainingArguments(output_dir=str(tmp_path), learning_rate=1e-4, weight_decay=0.01, use_cpu=True, report_to=[])
    trainer = TunekitTrainer(model=model, args=args, head_learning_rate=1e-3, layerwise_lr_decay=0.5)
    optimizer = trainer.create_optimizer()
    rate_of, decay_of = {}, {}
    names = {id(p): n for n, p in model.named_parameters()}
    for group in optimizer.param_groups:
        for parameter in group["params"]:
            rate_of[names[id(parameter)]] = group["lr"]
            decay_of[names[id(parameter)]] = group["weight_decay"]
    assert rate_of["classifier.weight"] == pytest.approx(1e-3)
    assert rate_of["bert.encoder.layer.1.output.dense.weight"] == pytest.approx(1e-4)
    assert rate_of["bert.encoder.layer.0.output.dense.weight"] == pytest.approx(5e-5)
    assert rate_of["bert.embeddings.word_embeddings.weight"] == pytest.approx(2.5e-5)
    assert decay_of["bert.encoder.layer.0.output.dense.weight"] == 0.01
    assert decay_of["bert.encoder.layer.0.output.dense.bias"] == 0.0
    assert decay_of["bert.encoder.layer.0.output.LayerNorm.weight"] == 0.0
    assert len(rate_of) == sum(1 for _ in model.parameters())  # every parameter in exactly one group


def test_groups_leave_frozen_parameters_out(tiny_bert):
    model = token_model(tiny_bert)
    freeze(model, embeddings=True)
    groups = parameter_groups(model, set(), 1e-4, 0.0)
    grouped = {name for group in groups for name in group["names"]}
    assert grouped and not any("embeddings" in name for name in grouped)


@pytest.mark.slow
def test_frozen_encoder_is_saved_unchanged_and_the_head_trains(tiny_bert, tmp_path):
    output = tmp_path / "out"
    result = run_program(*train_flags(tiny_bert, output, "--freeze_encoder", "--num_train_epochs", "1"))
    assert result.returncode == 0, result.stderr[-2000:]
    trained = load_file(str(output / "model.safetensors"))
    start = load_file(f"{tiny_bert}/model.safetensors")
    for name, value in start.items():
        if not name.startswith("pooler"):
            assert torch.equal(trained["bert." + name], value), name
    assert "classifier.weight" in trained


@pytest.mark.slow
def test_early_stopping_stops_and_keeps_the_best_checkpoint(tiny_bert, tmp_path):
    output = tmp_path / "out"
    # No change of F1 can beat a threshold of 10, so the second evaluation already counts as a stall.
    result = run_program(*train_flags(
        tiny_bert, output, "--num_train_epochs", "6", "--early_stopping_patience", "1",
        "--early_stopping_threshold", "10", "--save_strategy", "no",
    ))
    assert result.returncode == 0, result.stderr[-2000:]
    state = json.load(open(output / "trainer_state.json"))
    evaluations = [entry for entry in state["log_history"] if "eval_f1" in entry]
    assert [entry["epoch"] for entry in evaluations][:2] == [1.0, 2.0] and state["epoch"] == 2.0
    best = max(evaluations[:2], key=lambda entry: entry["eval_f1"])
    assert state["best_metric"] == best["eval_f1"]
    # 600 sentences / 16 = 38 steps an epoch
    assert state["best_model_checkpoint"].endswith(f"checkpoint-{38 * int(best['epoch'])}")
    results = json.load(open(output / "eval_results.json"))
    assert results["eval_f1"] == pytest.approx(best["eval_f1"])  # the final model is the best one


def test_early_stopping_without_validation_data_is_a_clear_error(tiny_bert, tmp_path):
    flags = train_flags(tiny_bert, tmp_path / "out", "--early_stopping_patience", "2")
    data = flags.index("--data_dir")
    flags[data:data + 2] = ["--train_file", "data/ner_sample/train.txt", "--validation_split_percentage", "0"]
    flags = [f for f in flags if f not in ("--do_eval", "--do_predict")]
    result = run_program(*flags)
    assert result.returncode == 2 and "needs validation data" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("extra, fixed, trained", [
    (["--gradient_checkpointing", "--gradient_accumulation_steps", "2", "--layerwise_lr_decay", "0.8",
      "--head_learning_rate", "5e-3", "--freeze_layers", "1"], ("embeddings.", "encoder.layer.0."), ("encoder.layer.1.",)),
    (["--gradient_accumulation_steps", "3", "--early_stopping_patience", "3", "--freeze_embeddings"],
     ("embeddings.",), ("encoder.layer.0.", "encoder.layer.1.")),
])
def test_options_combine_with_checkpointing_and_accumulation(tiny_bert, tmp_path, extra, fixed, trained):
    output = tmp_path / "out"
    result = run_program(*quick_ner_flags(tiny_bert, output, "--num_train_epochs", "2", *extra))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "eval_f1" in json.load(open(output / "all_results.json"))
    after = load_file(str(output / "model.safetensors"))
    before = load_file(f"{tiny_bert}/model.safetensors")
    for name, value in before.items():
        if name.startswith(fixed):
            assert torch.equal(after["bert." + name], value), name
        if name.startswith(trained) and name.endswith("dense.weight"):
            assert not torch.equal(after["bert." + name], value), name


def test_covering_length_and_its_bounds():
    from tunekit.data.max_length import covering_length

    lengths = list(range(1, 101))  # 1..100 pieces
    assert covering_length(lengths, 0.95, 512) == 95
    assert covering_length(lengths, 1.0, 512) == 100
    assert covering_length(lengths, 0.95, 64) == 64  # never beyond what the model takes


@pytest.mark.slow
def test_auto_max_length_is_logged_saved_and_keeps_every_word(tiny_bert, tmp_path):
    output = tmp_path / "out"
    result = run_program(*train_flags(
        tiny_bert, output, "--max_seq_length", "auto", "--max_seq_length_coverage", "0.5", "--num_train_epochs", "1",
    ))
    assert result.returncode == 0, result.stderr[-2000:]
    log = result.stdout + result.stderr
    line = next(line for line in log.splitlines() if "--max_seq_length auto:" in line)
    chosen = int(line.split("auto: ")[1].split()[0])
    longer = int(line.split(". ")[-1].split()[0])
    assert 5 < chosen < 40 and 0 < longer < 600 and "split into overlapping windows" in line
    saved = json.load(open(output / "tunekit_args.json"))["data"]["max_seq_length"]
    assert saved == chosen
    words = sum(1 for line in open(output / "predictions.txt") if line.strip())
    expected = sum(1 for line in open("data/ner_sample/test.txt") if line.strip() and not line.startswith("-DOCSTART-"))
    assert words <= expected and words > 0


@pytest.mark.slow
def test_balanced_class_weights_for_tags(tiny_bert, tmp_path):
    result = run_program(*train_flags(tiny_bert, tmp_path / "ner", "--class_weights", "balanced", "--num_train_epochs", "1"))
    assert result.returncode == 0, result.stderr[-2000:]
    weights_line = next(line for line in (result.stdout + result.stderr).splitlines() if "Class weights:" in line)
    weights = dict(pair.rsplit(" ", 1) for pair in weights_line.split("Class weights: ")[1].split(", "))
    assert float(weights["O"]) < 1 < float(weights["B-PER"])  # O is by far the most frequent tag


@pytest.mark.slow
def test_hyperparameter_search_writes_the_trials_and_trains_the_best(tiny_bert, tmp_path):
    output = tmp_path / "out"
    result = run_program(*quick_ner_flags(tiny_bert, output, "--hp_search_trials", "3", "--save_strategy", "no"))
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line.split("\t") for line in (output / "hp_search_trials.tsv").read_text().splitlines()]
    header, trials = rows[0], rows[1:]
    assert header[:4] == ["trial", "state", "eval_f1", "seconds"]
    assert {"learning_rate", "per_device_train_batch_size", "num_train_epochs", "warmup_ratio", "weight_decay",
            "use_crf"} <= set(header)
    assert len(trials) == 3 and all(row[1] == "COMPLETE" for row in trials)
    best = json.load(open(output / "hp_search_best.json"))
    assert best["eval_f1"] == pytest.approx(max(float(row[2]) for row in trials), rel=1e-5)
    trained = torch.load(output / "training_args.bin", weights_only=False)
    assert trained.learning_rate == pytest.approx(best["learning_rate"])
    assert trained.per_device_train_batch_size == best["per_device_train_batch_size"]
    assert trained.warmup_steps == pytest.approx(best["warmup_ratio"])
    assert json.load(open(output / "tunekit_args.json"))["data"]["use_crf"] == best["use_crf"]
    assert (output / "modeling_crf.py").exists() == best["use_crf"]
