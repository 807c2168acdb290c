"""Class weights and the training loss: hand-computed values, the weight file's errors, the per-step normaliser."""

import json
import os
import shutil

import datasets
import pytest
import torch
import torch.nn.functional as F

from conftest import NER_SAMPLE, run_program
from tunekit.errors import UserError
from tunekit.training.losses import CrossEntropyLoss, balanced_weights, class_weights, label_counts, read_weight_file

LABELS = {"O": 0, "B-PER": 1, "I-PER": 2}


def test_counts_skip_ignored_pieces_and_balanced_weights_match_the_formula():
    tagged = datasets.Dataset.from_dict({"labels": [[-100, 0, 0, 1, -100], [-100, 0, 2, -100]]})
    counts = label_counts(tagged, 3)
    assert counts.tolist() == [3, 1, 1]
    assert balanced_weights(counts).tolist() == pytest.approx([5 / 9, 5 / 3, 5 / 3])
    single = datasets.Dataset.from_dict({"labels": [1, 1, 0, 1]})
    assert label_counts(single, 3).tolist() == [1, 3, 0]
    assert balanced_weights([1, 3, 0]).tolist() == pytest.approx([4 / 3, 4 / 9, 1.0])


def test_weight_file_lists_some_labels_and_errors_name_the_line(tmp_path):
    path = tmp_path / "weights.txt"
    path.write_text("# more weight on people\nB-PER\t3\nI-PER 2.5\n")
    assert read_weight_file(str(path), LABELS).tolist() == [1.0, 3.0, 2.5]
    path.write_text("B-PER 3\nB-ORG 2\n")
    with pytest.raises(UserError, match=r"weights.txt:2: unknown label 'B-ORG'"):
        read_weight_file(str(path), LABELS)
    path.write_text("B-PER heavy\n")
    with pytest.raises(UserError, match=r"weights.txt:1: 'heavy' is not a number"):
        read_weight_file(str(path), LABELS)
    with pytest.raises(UserError, match="cannot read"):
        class_weights(str(tmp_path / "missing.txt"), None, LABELS)


def test_weighted_loss_is_the_weighted_sum_over_labelled_tokens():
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 3)
    labels = torch.tensor([[-100, 0, 1, -100], [-100, 2, 0, -100]])
    weights = torch.tensor([0.5, 2.0, 1.0])
    picked = [(0, 1, 0), (0, 2, 1), (1, 1, 2), (1, 2, 0)]
    by_hand = sum(-weights[c] * F.log_softmax(logits[b, t], -1)[c] for b, t, c in picked)
    loss = CrossEntropyLoss(weights)({"logits": logits}, labels)
    assert loss.item() == pytest.approx(by_hand.item() / 4, rel=1e-5)
    # Without weights and with Trainer's count of labelled items it is the model's usual mean.
    plain = CrossEntropyLoss()({"logits": logits}, labels, num_items_in_batch=torch.tensor(4))
    assert plain.item() == pytest.approx(F.cross_entropy(logits.reshape(-1, 3), labels.reshape(-1)).item(), rel=1e-5)
    # In training a fixed normaliser comes as num_items_in_batch (TunekitTrainer: tokens per row x the step's
    # rows), however many tokens the batch holds; evaluation (no count given) reports the usual mean.
    fixed = CrossEntropyLoss()
    assert fixed({"logits": logits}, labels, num_items_in_batch=torch.tensor(10.0)).item() == pytest.approx(plain.item() * 4 / 10, rel=1e-5)
    with torch.no_grad():
        assert fixed({"logits": logits}, labels).item() == pytest.approx(plain.item())


@pytest.mark.parametrize("batches", ["packed", "buckets"])
def test_a_step_smaller_than_a_batch_trains_on_the_evaluation_loss(tiny_bert, tmp_path, batches):
    """Five sentences, batches of 32: the training loss of the one step is the evaluation loss of the same
    sentences (dropout off; learning rate 0, so the evaluation after the step sees the same model), not that
    loss shrunk by 5/32 as with the normaliser of a full step."""
    model = tmp_path / "no_dropout"
    shutil.copytree(tiny_bert, model)
    config = json.loads((model / "config.json").read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (model / "config.json").write_text(json.dumps(config))
    train = os.path.join(NER_SAMPLE, "train.txt")
    output = tmp_path / "out"
    result = run_program(
        "run_ner.py", "--model_name_or_path", str(model), "--train_file", train, "--validation_file", train,
        "--output_dir", str(output), "--do_train", "--do_eval", "--max_train_samples", "5", "--max_eval_samples", "5",
        "--per_device_train_batch_size", "32", "--max_steps", "1", "--logging_steps", "1", "--learning_rate", "0",
        "--precision", "fp32", "--report_to", "none", "--disable_tqdm", "true", "--save_strategy", "no",
        *(["--no_pack_sequences"] if batches == "buckets" else []),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    history = json.loads((output / "trainer_state.json").read_text())["log_history"]
    step_loss = next(entry["loss"] for entry in history if "loss" in entry)
    evaluation = json.loads((output / "eval_results.json").read_text())["eval_loss"]
    assert step_loss == pytest.approx(evaluation, rel=1e-3)
