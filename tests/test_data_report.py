"""The data report: what --inspect_data finds in files with known problems, without training, and that every run
writes it."""

import json
import pytest

from conftest import run_program


def write_conll(path, sentences):
    path.write_text("\n\n".join("\n".join(f"{w} {t}" for w, t in s) for s in sentences) + "\n", encoding="utf-8")


@pytest.mark.slow
def test_inspect_data_reports_lengths_schemes_unseen_labels_and_overlap_without_training(tiny_bert, tmp_path):
    shared = [("Anna", "I-PER"), ("lives", "O"), ("in", "O"), ("Oslo", "I-LOC")]
    long_sentence = [("word", "O")] * 40
    write_conll(tmp_path / "train.txt", [shared, [("Bo", "B-PER"), ("runs", "O")], long_sentence])
    write_conll(tmp_path / "dev.txt", [shared, [("Acme", "B-ORG"), ("sells", "O")]])
    write_conll(tmp_path / "test.txt", [[("Bo", "B-PER"), ("walks", "O")]])
    output = tmp_path / "out"
    result = run_program("run_ner.py", "--model_name_or_path", tiny_bert, "--data_dir", str(tmp_path),
                        "--output_dir", str(output), "--do_train", "--do_eval", "--do_predict", "--inspect_data",
                        "--max_seq_length", "16")
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(p.name for p in output.iterdir()) == ["data_report.json", "data_report.txt"]  # nothing trained
    report = json.loads((output / "data_report.json").read_text())
    train = report["splits"]["train"]
    assert train["examples"] == 3 and train["words"] == 46
    assert train["longer_than_max_seq_length"] == 1 and train["word_pieces"]["max"] == 42  # 40 words + [CLS] [SEP]
    assert train["scheme"] == "IOB1" and train["tags_rewritten_to_IOB2"] == 2  # Anna and Oslo open with I-
    assert train["entities"] == {"PER": 2, "LOC": 1}
    assert report["unseen_labels"] == {"validation": ["B-ORG"], "test": []}
    assert report["overlap"]["validation"]["distinct_examples_also_in_train"] == 1
    assert report["overlap"]["validation"]["some"] == ["Anna lives in Oslo"]
    assert "dev: labels not in training: B-ORG" in result.stdout
    assert "train: scheme IOB1, read as IOB2 (2 tags rewritten)" in result.stdout
    assert "1 (33.3%) split into overlapping windows" in result.stdout

    # training into the same folder afterwards is not refused for the report it holds
    result = run_program("run_ner.py", "--model_name_or_path", tiny_bert, "--data_dir", str(tmp_path),
                        "--output_dir", str(output), "--do_train", "--max_steps", "1", "--report_to", "none",
                        "--max_seq_length", "16", "--save_strategy", "no")
    assert result.returncode == 0, result.stderr[-2000:]
    assert (output / "model.safetensors").exists() and (output / "data_report.json").exists()


def test_a_classification_report_counts_labels_and_truncated_texts(tiny_bert, tmp_path):
    rows = ["sentence\tlabel"] + [f"good film number {i}\tpos" for i in range(6)] + ["a very long review " * 10 + "\tneg"]
    (tmp_path / "train.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "dev.tsv").write_text("sentence\tlabel\ngood film number 1\tpos\nbad\tmeh\n", encoding="utf-8")
    output = tmp_path / "out"
    result = run_program("run_glue.py", "--model_name_or_path", tiny_bert, "--train_file", str(tmp_path / "train.tsv"),
                        "--validation_file", str(tmp_path / "dev.tsv"), "--output_dir", str(output), "--do_train",
                        "--do_eval", "--inspect_data", "--max_seq_length", "32")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads((output / "data_report.json").read_text())
    assert report["splits"]["train"]["labels_seen"] == {"neg": 1, "pos": 6}
    assert report["splits"]["train"]["longer_than_max_seq_length"] == 1
    assert report["unseen_labels"] == {"validation": ["meh"]}
    assert report["overlap"]["validation"]["distinct_examples_also_in_train"] == 1
    assert "truncated" in result.stdout
