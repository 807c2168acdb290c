"""run_glue.py end to end on a tiny random BERT, one run per problem type: outputs, predictions, reloading."""

import json
import os
import random

import pytest

from conftest import launch, REPO, run_program
from folders import NEGATIVE, POSITIVE, key_values, sentence, train, write_mrpc, write_single, write_stsb


def test_single_texts_keep_label_names_and_predict_in_input_order(trained_single):
    output = trained_single
    for name in ("model.safetensors", "config.json", "tokenizer.json", "eval_results.txt", "test_results.txt",
                 "all_results.json", "train_results.json", "predict_results.json"):
        assert (output / name).exists(), name
    assert "predict_accuracy" not in key_values(output / "test_results.txt")  # the test file has no labels
    config = json.load(open(output / "config.json"))
    assert config["id2label"] == {"0": "negative", "1": "positive"}
    results = key_values(output / "eval_results.txt")
    assert {"eval_accuracy", "eval_f1", "eval_f1_macro", "eval_f1_weighted", "eval_matthews_correlation"} <= set(results)
    lines = (output / "predict_results_classification.txt").read_text().splitlines()
    assert lines[0] == "index\tprediction\tprob_negative\tprob_positive"
    assert len(lines) == 31
    for expected_index, line in enumerate(lines[1:]):
        index, label, *probabilities = line.split("\t")
        assert int(index) == expected_index and label in {"negative", "positive"}
        assert sum(map(float, probabilities)) == pytest.approx(1.0, abs=1e-4)

    from transformers import pipeline

    classifier = pipeline("text-classification", model=str(output))
    assert classifier("the film was superb")[0]["label"] in {"negative", "positive"}


def test_glue_pair_task_from_a_local_folder(trained_pairs):
    output = trained_pairs
    results = key_values(output / "eval_results.txt")
    assert results["eval_samples"] == 30
    assert {"eval_accuracy", "eval_f1"} <= set(results)
    pairs = '{"text": "the film was good", "text_pair": "the film was good"}\n{"text": "a", "text_pair": "b c"}\n'
    predicted = run_program("sh", os.path.join(REPO, "scripts", "predict.sh"), str(output), input_text=pairs)
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    rows = [json.loads(line) for line in predicted.stdout.splitlines()]
    assert [row["text_pair"] for row in rows] == ["the film was good", "b c"]
    assert all(row["label"] in {"0", "1"} for row in rows)
    assert json.load(open(output / "tunekit_args.json"))["data"]["task_name"] == "mrpc"


@pytest.mark.slow
def test_mnli_folder_scores_matched_and_mismatched_dev_sets(tiny_bert, tmp_path):
    rng = random.Random(6)
    for name, count in (("train.tsv", 60), ("dev_matched.tsv", 14), ("dev_mismatched.tsv", 17)):
        rows = ["index\tsentence1\tsentence2\tgold_label"] + [
            f"{i}\t{sentence(rng, POSITIVE)}\t{sentence(rng, NEGATIVE)}\t{rng.choice(['entailment', 'neutral', 'contradiction'])}"
            for i in range(count)
        ]
        (tmp_path / name).write_text("\n".join(rows) + "\n")
    output = train(tiny_bert, tmp_path / "out", "--task_name", "mnli", "--data_dir", str(tmp_path))
    assert key_values(output / "eval_results.txt")["eval_samples"] == 14
    assert key_values(output / "eval_mm_results.txt")["eval_mm_samples"] == 17


@pytest.mark.slow
def test_chunks_cover_texts_longer_than_the_model_maximum(tiny_bert, tmp_path):
    write_single(tmp_path, random.Random(7), words=300)  # about 300 pieces; the tiny model takes 128 positions
    output = train(
        tiny_bert, tmp_path / "out", "--data_dir", str(tmp_path), "--do_predict", "--max_seq_length", "64",
        "--long_text", "chunks", "--chunk_pooling", "max", "--max_steps", "4",  # flow and files: a few steps
    )
    assert key_values(output / "eval_results.txt")["eval_samples"] == 40
    lines = (output / "predict_results_classification.txt").read_text().splitlines()
    assert len(lines) == 31 and [int(line.split("\t")[0]) for line in lines[1:]] == list(range(30))


def test_regression_has_one_output_and_correlations(trained_regression):
    output = trained_regression
    config = json.load(open(output / "config.json"))
    assert config["problem_type"] == "regression" and len(config["id2label"]) == 1
    results = key_values(output / "eval_results.txt")
    assert {"eval_pearson", "eval_spearmanr", "eval_mse"} <= set(results)
    state = json.load(open(output / "trainer_state.json"))
    pearsons = [entry["eval_pearson"] for entry in state["log_history"] if "eval_pearson" in entry]
    assert state["best_metric"] == pytest.approx(max(pearsons))


def test_multi_label_from_json_lists(trained_multilabel):
    output = trained_multilabel
    config = json.load(open(output / "config.json"))
    assert config["problem_type"] == "multi_label_classification"
    assert sorted(config["id2label"].values()) == ["rain", "sun", "wind"]
    assert {"eval_accuracy", "eval_f1", "eval_f1_macro"} <= set(key_values(output / "eval_results.txt"))


@pytest.mark.slow
def test_train_and_eval_scripts_drive_glue(tiny_bert, tmp_path):
    write_mrpc(tmp_path, random.Random(5))
    output = tmp_path / "out"
    # launched: train.sh's shell logic picks run_glue.py from --task_name mrpc
    trained = launch(
        "sh", os.path.join(REPO, "scripts", "train.sh"), str(output), "--task_name", "mrpc", "--data_dir", str(tmp_path),
        "--model_name_or_path", tiny_bert, "--num_train_epochs", "2", "--max_seq_length", "32",
        "--load_best_model_at_end", "--metric_for_best_model", "matthews_correlation",
        cwd=str(tmp_path),
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    before = key_values(output / "eval_results.txt")
    evaluated = run_program("sh", os.path.join(REPO, "scripts", "eval.sh"), str(output), cwd=str(tmp_path))
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert key_values(output / "eval_results.txt")["eval_accuracy"] == pytest.approx(before["eval_accuracy"])


@pytest.mark.slow
def test_class_weights_from_a_file_and_not_for_regression(tiny_bert, tmp_path):
    write_single(tmp_path, random.Random(8))
    (tmp_path / "weights.txt").write_text("positive 4\n")
    result = run_program(
        "run_glue.py", "--model_name_or_path", tiny_bert, "--data_dir", str(tmp_path), "--output_dir",
        str(tmp_path / "out"), "--do_train", "--do_eval", "--num_train_epochs", "1", "--report_to", "none",
        "--disable_tqdm", "true", "--class_weights", str(tmp_path / "weights.txt"),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Class weights: negative 1, positive 4" in result.stdout + result.stderr
    stsb = tmp_path / "stsb"
    stsb.mkdir()
    write_stsb(stsb, random.Random(3))
    result = run_program(
        "run_glue.py", "--model_name_or_path", tiny_bert, "--task_name", "stsb", "--data_dir", str(stsb),
        "--output_dir", str(tmp_path / "out2"), "--do_train", "--class_weights", "balanced",
    )
    assert result.returncode == 2 and "--class_weights is for single-label classification" in result.stderr
