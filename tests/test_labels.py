"""Where the label set comes from, and clear errors for labels outside it."""

import pytest

from tunekit.errors import UserError
from tunekit.data.labels import check_known, choose_labels, read_label_file
from tunekit.data.labels import fine_tuned_labels
from tunekit.data.token_data import order_ner_labels


def test_label_file_keeps_its_order_and_rejects_duplicates(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("O\nB-PER\n\nI-PER\n", encoding="utf-8")
    assert read_label_file(str(path)) == ["O", "B-PER", "I-PER"]
    path.write_text("O\nB-PER\nO\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"labels.txt:3: label 'O' is listed twice \(first on line 1\)"):
        read_label_file(str(path))


def test_data_labels_are_sorted_like_the_official_script():
    seen = {label: ("train.txt", 1) for label in ["I-PER", "B-LOC", "O", "B-PER", "I-LOC"]}
    assert choose_labels(seen, None, None, order_ner_labels) == ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"]


def test_fine_tuned_model_order_is_kept_and_unknown_data_labels_fail():
    model_labels = ["O", "B-PER", "I-PER"]
    assert choose_labels({"O": ("t.txt", 1)}, None, model_labels, order_ner_labels) == model_labels
    with pytest.raises(UserError, match=r"t.txt:7: label 'B-LOC' is not in the fine-tuned model's labels"):
        choose_labels({"B-LOC": ("t.txt", 7)}, None, model_labels, order_ner_labels)


def test_label_file_must_declare_every_label_of_a_split(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("O\nB-PER\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"dev.txt:12: label 'B-ORG' is not in the label file"):
        choose_labels({"B-ORG": ("dev.txt", 12)}, str(path), None, order_ner_labels)
    with pytest.raises(UserError, match=r"test.txt:3: label 'X'"):
        check_known({"X": ("test.txt", 3)}, ["O"], "the training data")


def test_default_label_names_do_not_count_as_fine_tuned():
    class Config:
        id2label = {0: "LABEL_0", 1: "LABEL_1"}

    assert fine_tuned_labels(Config) is None
    Config.id2label = {1: "B-PER", 0: "O"}
    assert fine_tuned_labels(Config) == ["O", "B-PER"]
