"""Class weights and the training loss: hand-computed values, the weight file's errors, the per-step normaliser."""

from types import SimpleNamespace

import datasets
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tunekit.errors import UserError
from tunekit.losses import CrossEntropyLoss, balanced_weights, class_weights, label_counts, read_weight_file

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
    # A fixed normaliser divides every batch by the same number, however many tokens it holds.
    args = SimpleNamespace(train_batch_size=2, gradient_accumulation_steps=1, world_size=1)
    fixed = CrossEntropyLoss(tokens_per_row=5.0, args=args)  # 10 tokens a step on average
    assert fixed({"logits": logits}, labels).item() == pytest.approx(plain.item() * 4 / 10, rel=1e-5)
    args.train_batch_size = 4  # a search trial changes the batch size: 20 tokens a step
    assert fixed({"logits": logits}, labels).item() == pytest.approx(plain.item() * 4 / 20, rel=1e-5)
    with torch.no_grad():  # evaluation reports the usual mean
        assert fixed({"logits": logits}, labels).item() == pytest.approx(plain.item())
