"""Bad input across formats and both scripts: exit code 2 and one line naming the file and the line."""

import json
import os

import pytest

from conftest import SAMPLES
from tunekit.errors import exits_cleanly_on_user_errors
from tunekit.programs.train import train


def ner(argv):
    return train("ner", argv)


def classification(argv):
    return train("classification", argv)

GOOD_CONLL = "Anna B-PER\nvisited O\nOslo B-LOC\n\nKofi B-PER\nleft O\n"
GOOD_TSV = "a fine film\t1\na dull film\t0\n"
SAMPLE_COLUMNS = os.path.join(SAMPLES, "conll_columns.txt")


def ner_case(name, files, extra=(), message=""):
    return pytest.param(ner, files, list(extra), message, id=f"ner-{name}")


def glue_case(name, files, extra=(), message=""):
    return pytest.param(classification, files, list(extra), message, id=f"glue-{name}")


CASES = [
    ner_case("count-mismatch", {"train.tsv": "Anna visited\tB-PER O O\n"}, message="train.tsv:1: 2 tokens but 3 labels"),
    ner_case("one-column-in-two", {"train.txt": "Anna B-PER\nvisited O\nOslo\n"},
             message="train.txt:3: expected 2 columns like the first token line, found 1"),
    ner_case("label-not-in-label-file", {"train.txt": GOOD_CONLL, "labels.txt": "O\nB-PER\n"},
             ["--label_file", "{dir}/labels.txt"], "train.txt:1: label 'B-LOC' is not in the label file"),
    ner_case("empty-file", {"train.txt": ""}, message="train.txt:1: the file is empty"),
    ner_case("only-docstart", {"train.txt": "-DOCSTART- -X- -X- O\n\n"}, message="train.txt:1: no sentences found"),
    ner_case("not-utf8", {"train.txt": b"Anna B-PER\nM\xfcnchen B-LOC\n"}, message="train.txt:2: bytes that are not UTF-8"),
    ner_case("json-line-not-object", {"train.jsonl": '{"tokens": ["a"], "ner_tags": ["O"]}\n[1]\n'},
             message="train.jsonl:2: a JSON line must be an object"),
    ner_case("missing-label-field", {"train.jsonl": '{"tokens": ["a"], "ner_tags": ["O"]}\n{"tokens": ["b"]}\n'},
             message="train.jsonl:2: no label field"),
    ner_case("duplicate-in-label-file", {"train.txt": GOOD_CONLL, "labels.txt": "O\nB-PER\nB-LOC\nO\n"},
             ["--label_file", "{dir}/labels.txt"], "labels.txt:4: label 'O' is listed twice"),
    ner_case("dev-label-unseen", {"train.txt": GOOD_CONLL, "dev.txt": "Helix B-ORG\n"},
             message="dev.txt:1: label 'B-ORG' is not in the training data"),
    ner_case("no-training-file", {"dev.txt": GOOD_CONLL}, message="no train file in this folder"),
    ner_case("model-path-missing", {"train.txt": GOOD_CONLL}, ["--model_name_or_path", "./no/such/model"],
             "./no/such/model: no such model folder"),
    ner_case("hub-id-offline", {"train.txt": GOOD_CONLL}, ["--model_name_or_path", "tunekit-tests/no-such-model"],
             "cannot load model 'tunekit-tests/no-such-model': it is not a local folder"),
    ner_case("fine-tuned-labels-disagree", {"train.txt": GOOD_CONLL, "model/config.json": json.dumps(
        {"model_type": "bert", "id2label": {"0": "O", "1": "B-PER"}, "label2id": {"O": 0, "B-PER": 1}})},
        ["--model_name_or_path", "{dir}/model"], "train.txt:1: label 'B-LOC' is not in the fine-tuned model's labels"),
    ner_case("invalid-json", {"train.json": '{"0": {"sents": "a b", '}, message="train.json:1: invalid JSON"),
    ner_case("csv-column-count", {"train.csv": "tokens,ner_tags\nAnna,B-PER,extra\n"},
             message="train.csv:2: expected 2 columns like the header, found 3"),
    ner_case("unknown-format", {"train.txt": GOOD_CONLL}, ["--file_format", "xml"], "--file_format must be one of"),
    ner_case("train-file-is-folder", {"data/x.txt": GOOD_CONLL}, ["--train_file", "{dir}/data"], "data: is a folder"),
    glue_case("empty-text", {"train.tsv": "a fine film\t1\n \t0\n"}, message="train.tsv:2: empty text"),
    glue_case("regression-label-not-number", {"train.tsv": "a\t1.5\nb\t2.0\nc\thigh\n"}, ["--do_regression"],
              "train.tsv:3: label 'high' is not a number"),
    glue_case("two-column-row-in-three", {"train.tsv": "a\tb\t1\nc\t0\n"},
              message="train.tsv:2: expected 3 columns like the first line, found 2"),
    glue_case("missing-text-column", {"train.tsv": "body\tlabel\nx\t1\n"}, ["--text_column_names", "text"],
              "train.tsv:1: no text column 'text'"),
    glue_case("json-line-not-object", {"train.json": '{"text": "a", "label": "1"}\n"b"\n'},
              message="train.json:2: a JSON line must be an object"),
    glue_case("empty-label", {"train.tsv": "good\t1\nbad\t\n"}, message="train.tsv:2: empty label"),
    glue_case("label-file-duplicates", {"train.tsv": GOOD_TSV, "label.txt": "0\n1\n1\n"},
              ["--label_file", "{dir}/label.txt"], "label.txt:3: label '1' is listed twice"),
    glue_case("dev-label-unseen", {"train.tsv": GOOD_TSV, "dev.tsv": "so so\t2\n"},
              message="dev.tsv:1: label '2' is not in the training data"),
    glue_case("test-has-pairs", {"train.tsv": GOOD_TSV, "dev.tsv": GOOD_TSV, "test.tsv": "a\tb\t1\n"}, ["--do_predict"],
              "test.tsv:1: sentence pairs, but the train data has single texts"),
    glue_case("not-utf8", {"train.tsv": b"good\t1\nm\xfcde\t0\n"}, message="train.tsv:2: bytes that are not UTF-8"),
    glue_case("header-only-csv", {"train.csv": "label,review\n"}, message="train.csv: no examples found"),
    glue_case("empty-file", {"train.tsv": ""}, message="train.tsv:1: the file is empty"),
    glue_case("unknown-task", {"train.tsv": GOOD_TSV}, ["--task_name", "squad"], "--task_name must be one of"),
    # The only B-ORG of the sample falls into the 10% held out for validation at the default seed.
    ner_case("label-only-in-held-out-part", {"x.txt": open(SAMPLE_COLUMNS, encoding="utf-8").read()},
             ["--train_file", "{dir}/x.txt"], message="x.txt:9: label 'B-ORG' occurs only in the 10% of this training file held out"),
    # Quoting, separators and encodings that would merge or split records.
    glue_case("csv-quote-never-closed", {"train.csv": 'label,review\n1,"near the station, friendly\n0,bad\n1,good\n'},
              message="train.csv:2: a quoted cell opened on this line is never closed"),
    glue_case("csv-quote-swallows-rows", {"train.csv": 'label,review\n1,"near the station\n0,bad service\n1,good" food\n'},
              message="train.csv:2: bad quoting"),
    glue_case("csv-quoted-cell-takes-in-a-row", {"train.csv": 'label,review\n1,"near the station\n0,bad service\n1,good"\n'},
              message="train.csv:2: a quoted cell opened here runs on to line 4 and takes in line 3"),
    ner_case("csv-tokens-quote-never-closed", {"train.csv": 'tokens,ner_tags\n"Anna Brandt,B-PER I-PER\nKofi,B-PER\n'},
             message="train.csv:2: a quoted cell opened on this line is never closed"),
    glue_case("utf16", {"train.tsv": "good\t1\nbad\t0\n".encode("utf-16")}, message="train.tsv:1: the file is UTF-16"),
    ner_case("utf16-without-bom", {"train.txt": "Anna B-PER\n".encode("utf-16-le")},
             message="train.txt:1: NUL bytes in the text"),
    # Settings against each other and against the disk.
    ner_case("precision-contradicts-bf16", {"train.txt": GOOD_CONLL}, ["--precision", "fp32", "--bf16"],
             "--precision fp32 contradicts --bf16"),
    ner_case("scheme-without-strict", {"train.txt": GOOD_CONLL}, ["--seqeval_scheme", "IOB2"],
             "--seqeval_scheme is used only in strict mode"),
    ner_case("zero-epochs", {"train.txt": GOOD_CONLL}, ["--num_train_epochs", "0"], "--num_train_epochs 0.0 trains nothing"),
    ner_case("zero-batch", {"train.txt": GOOD_CONLL}, ["--per_device_train_batch_size", "0"],
             "--per_device_train_batch_size must be 1 or more"),
    ner_case("negative-learning-rate", {"train.txt": GOOD_CONLL}, ["--learning_rate=-1e-5"],
             "learning rates must be zero or more"),
    ner_case("no-train-samples", {"train.txt": GOOD_CONLL}, ["--max_train_samples", "0"], "--max_train_samples must be 1 or more"),
    ner_case("longer-than-the-model", {"train.txt": GOOD_CONLL}, ["--max_seq_length", "4096"],
             "--max_seq_length 4096 is longer than the model takes (128 positions)"),
    ner_case("resume-and-overwrite", {"train.txt": GOOD_CONLL}, ["--overwrite_output_dir", "--resume_from_checkpoint", "{dir}"],
             "--resume_from_checkpoint continues a run and --overwrite_output_dir starts afresh"),
    ner_case("output-dir-is-the-data", {"train.txt": GOOD_CONLL}, ["--output_dir", "{dir}"], "--output_dir is where --data_dir"),
    ner_case("output-dir-is-a-file", {"train.txt": GOOD_CONLL}, ["--output_dir", "{dir}/train.txt"],
             "train.txt: --output_dir is a file, not a folder"),
    ner_case("negative-resamples", {"train.txt": GOOD_CONLL}, ["--bootstrap_resamples", "-1"],
             "--bootstrap_resamples must be zero or more"),
    glue_case("pooling-without-chunks", {"train.tsv": GOOD_TSV}, ["--chunk_pooling", "max"],
              "--chunk_pooling and --chunk_stride apply to --long_text chunks"),
]


def write_files(folder, files):
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))


@pytest.mark.parametrize("run, files, extra, message", CASES)
def test_bad_input_exits_2_with_one_line(run, files, extra, message, tmp_path, tiny_bert, capsys):
    data = tmp_path / "data_dir"
    data.mkdir()
    write_files(data, files)
    data_flags = [] if any(flag in ("--train_file",) for flag in extra) else ["--data_dir", str(data)]
    own_output = [] if "--output_dir" in extra else ["--output_dir", str(tmp_path / "out")]
    argv = [
        "--model_name_or_path", tiny_bert, *own_output, "--do_train", "--do_eval",
        "--report_to", "none", *data_flags, *[flag.replace("{dir}", str(data)) for flag in extra],
    ]
    with pytest.raises(SystemExit) as exit_info:
        exits_cleanly_on_user_errors(run)(argv)
    assert exit_info.value.code == 2
    error_lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 1, error_lines
    assert message in error_lines[0]
    if ":" in message.split()[0] and message[0] != "-":
        assert str(data) in error_lines[0] or message.startswith("./")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_at_least_25_cases_cover_both_scripts():
    scripts = [case.values[0] for case in CASES]
    assert len(CASES) >= 25 and scripts.count(ner) >= 10 and scripts.count(classification) >= 10
