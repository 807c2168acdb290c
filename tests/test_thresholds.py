"""Multi-label decision thresholds: tuned per label on dev, saved with the model and used by eval.sh, predict.sh
and the server's predictor; 0.5 without tuning."""

import json
import os

import numpy as np
import pytest
from sklearn.metrics import f1_score

from conftest import REPO, run_program
from folders import copy_of, key_values
from tunekit.evaluation.thresholds import best_threshold, tuned_thresholds



def test_each_label_gets_the_threshold_with_its_best_f1():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 2, (400, 3))
    # label 0 is confident, label 1 under-confident (its positives sit near 0.3), label 2 never occurs
    probabilities = np.where(gold == 1, 0.3 + 0.1 * rng.random((400, 3)), 0.2 * rng.random((400, 3)))
    probabilities[:, 0] = np.where(gold[:, 0] == 1, 0.9, 0.1)
    gold[:, 2] = 0
    logits = np.log(probabilities / (1 - probabilities))
    values = tuned_thresholds(logits, gold)
    assert 0.1 < values[0] < 0.9 and 0.2 <= values[1] < 0.3 and values[2] == 0.5
    for label in range(2):  # no threshold on a grid does better than the tuned one
        tuned = f1_score(gold[:, label], probabilities[:, label] > values[label])
        grid = max(f1_score(gold[:, label], probabilities[:, label] > t) for t in np.linspace(0.01, 0.99, 99))
        assert tuned >= grid - 1e-12
    assert best_threshold(np.array([0.9, 0.9, 0.1]), np.array([1, 0, 0])) == pytest.approx(0.5)  # ties: the nearest 0.5


@pytest.mark.slow
def test_tuned_thresholds_are_saved_and_used_by_eval_predict_and_the_server(trained_multilabel, tmp_path):
    output = copy_of(trained_multilabel, tmp_path)  # the thresholds are rewritten below
    dev = trained_multilabel.parent / "dev.jsonl"
    saved = json.loads((output / "thresholds.json").read_text())
    assert sorted(saved["thresholds"]) == ["rain", "sun", "wind"]
    assert saved["dev_scores"]["f1_tuned"] >= saved["dev_scores"]["f1_untuned"]
    assert key_values(output / "eval_results.txt")["eval_f1"] == pytest.approx(saved["dev_scores"]["f1_tuned"])

    # thresholds that choose every label / no label show that each entry point reads the file
    for value, expected in ((0.001, ["rain", "sun", "wind"]), (0.999, [])):
        (output / "thresholds.json").write_text(json.dumps({"thresholds": dict.fromkeys(["rain", "sun", "wind"], value)}))
        predicted = run_program("sh", os.path.join(REPO, "scripts", "predict.sh"), str(output), input_text="rain sun film\n")
        assert predicted.returncode == 0, predicted.stderr[-2000:]
        assert json.loads(predicted.stdout.splitlines()[0])["labels"] == expected

        from tunekit.programs.predict import load_predictor

        predictor = load_predictor(str(output))  # what the server predicts with
        assert predictor.predict(["rain sun film"])[0]["labels"] == expected

        evaluated = run_program("sh", os.path.join(REPO, "scripts", "eval.sh"), str(output),
                               "--validation_file", str(dev))
        assert evaluated.returncode == 0, evaluated.stderr[-2000:]
        # every label chosen: recall 1 and F1 = 2p/(p+1) with p the share of positive cells; none chosen: F1 0
        f1 = key_values(output / "eval_results.txt")["eval_f1"]
        assert (f1 > 0.5) if expected else f1 == 0.0


def test_tuning_is_refused_for_single_label_data(tiny_bert, tmp_path):
    (tmp_path / "train.tsv").write_text("sentence\tlabel\ngood\tpos\nbad\tneg\n", encoding="utf-8")
    result = run_program("run_glue.py", "--model_name_or_path", tiny_bert, "--train_file", str(tmp_path / "train.tsv"),
                        "--validation_file", str(tmp_path / "train.tsv"), "--output_dir", str(tmp_path / "out"),
                        "--do_train", "--tune_thresholds")
    assert result.returncode == 2
    assert "--tune_thresholds is for multi-label classification" in result.stderr
