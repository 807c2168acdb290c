"""Data writers and the trained folders the tests share: each is trained once per test run, in this process, and a
test that changes a folder works on a copy of it (copy_of). A pytest plugin of conftest.py."""

import json
import random
import shutil

import pytest

from in_process import run_program

POSITIVE = ["good", "great", "fine", "lovely", "superb"]
NEGATIVE = ["bad", "awful", "poor", "dull", "boring"]
FILLER = ["the", "film", "was", "really", "a", "plot", "cast", "very"]


def sentence(rng, words):
    return " ".join(rng.sample(FILLER, 3) + [rng.choice(words)] + rng.sample(FILLER, 2))


def write_single(folder, rng, words=0):
    """Own TSV files with a header and label names; the test file has no labels."""
    for name, count in (("train.tsv", 160), ("dev.tsv", 40), ("test.tsv", 30)):
        rows = ["sentence\tlabel" if name != "test.tsv" else "sentence"]
        for _ in range(count):
            positive = rng.random() < 0.5
            text = sentence(rng, POSITIVE if positive else NEGATIVE) + " " + " ".join(rng.choices(FILLER, k=words))
            rows.append(text.strip() if name == "test.tsv" else f"{text.strip()}\t{'positive' if positive else 'negative'}")
        (folder / name).write_text("\n".join(rows) + "\n", encoding="utf-8")


def write_mrpc(folder, rng):
    """A GLUE MRPC-format folder: BOM, five columns, bare quotes."""
    for name, count in (("train.tsv", 120), ("dev.tsv", 30)):
        rows = ["\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String"]
        for index in range(count):
            same = rng.random() < 0.5
            first = sentence(rng, POSITIVE)
            second = first if same else sentence(rng, NEGATIVE)
            rows.append(f'{int(same)}\t{index}\t{index + 1}\t" {first} "\t{second}')
        (folder / name).write_text("\n".join(rows) + "\n", encoding="utf-8")


def write_stsb(folder, rng):
    header = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore"
    for name, count in (("train.tsv", 120), ("dev.tsv", 30)):
        rows = [header]
        for index in range(count):
            score = rng.uniform(0, 5)
            rows.append(f"{index}\tg\tf\t2012\t{index}\tn\tn\t{sentence(rng, POSITIVE)}\t{sentence(rng, NEGATIVE)}\t{score:.3f}")
        (folder / name).write_text("\n".join(rows) + "\n", encoding="utf-8")


def write_multilabel(folder, rng):
    for name, count in (("train.jsonl", 160), ("dev.jsonl", 40)):
        with open(folder / name, "w", encoding="utf-8") as stream:
            for _ in range(count):
                labels = sorted(rng.sample(["rain", "sun", "wind"], rng.randint(1, 2)))
                stream.write(json.dumps({"text": " ".join(labels + rng.sample(FILLER, 3)), "labels": labels}) + "\n")


def train(model, output_dir, *flags):
    result = run_program(
        "run_glue.py",
        "--model_name_or_path", model,
        "--output_dir", str(output_dir),
        "--do_train", "--do_eval",
        "--num_train_epochs", "2",
        "--learning_rate", "3e-3",
        "--per_device_train_batch_size", "16",
        "--max_seq_length", "32",
        "--save_strategy", "no",
        "--report_to", "none",
        "--disable_tqdm", "true",
        *flags,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return output_dir


def key_values(path):
    with open(path, encoding="utf-8") as stream:
        return {key: float(value) for key, value in (line.rstrip("\n").split(" = ") for line in stream)}


def copy_of(folder, tmp_path, name="model"):
    """A copy of a shared trained folder, without its checkpoints, for a test that writes into it."""
    copied = tmp_path / name
    shutil.copytree(folder, copied, ignore=shutil.ignore_patterns("checkpoint-*"))
    return copied


@pytest.fixture(scope="session")
def trained_pairs(tiny_bert, tmp_path_factory):
    """A sentence-pair classifier trained on a GLUE MRPC-format folder."""
    return trained_classifier(tiny_bert, tmp_path_factory, write_mrpc, 2, "--task_name", "mrpc", "--data_dir", "{data}")


def trained_tagger(tiny_bert, tmp_path_factory, name, *flags, quick=False):
    from conftest import quick_ner_flags, train_flags

    output = tmp_path_factory.mktemp(name) / "out"
    result = run_program(*(quick_ner_flags if quick else train_flags)(tiny_bert, output, *flags))
    assert result.returncode == 0, result.stderr[-3000:]
    return output


@pytest.fixture(scope="session")
def trained_crf(tiny_bert, tmp_path_factory):
    """A tiny BERT with a CRF on top, trained by run_ner.py on the bundled sample."""
    return trained_tagger(tiny_bert, tmp_path_factory, "crf", "--use_crf", "--save_strategy", "no")


@pytest.fixture(scope="session")
def trained_bilstm(tiny_bert, tmp_path_factory):
    """A tiny BERT with a BiLSTM on top, read in short windows (long sentences take several); the quick profile."""
    return trained_tagger(tiny_bert, tmp_path_factory, "bilstm", "--use_bilstm", "--bilstm_hidden_size", "16",
                          "--max_seq_length", "24", "--save_strategy", "no", quick=True)


def trained_classifier(tiny_bert, tmp_path_factory, write, seed, *flags):
    """run_glue.py on the data write(folder, random.Random(seed)) puts in a folder of its own; "{data}" in a flag
    stands for that folder."""
    data = tmp_path_factory.mktemp(write.__name__.removeprefix("write_"))
    write(data, random.Random(seed))
    return train(tiny_bert, data / "out", *(flag.format(data=data) for flag in flags))


@pytest.fixture(scope="session")
def trained_single(tiny_bert, tmp_path_factory):
    """A single-text classifier from own TSV files with a header and label names; its test file has no labels."""
    return trained_classifier(tiny_bert, tmp_path_factory, write_single, 1, "--data_dir", "{data}", "--do_predict")


@pytest.fixture(scope="session")
def trained_pooled(tiny_bert, tmp_path_factory):
    """A single-text classifier on mean pooling, exported to ONNX (4 epochs: it learns the sentiment word)."""
    return trained_classifier(tiny_bert, tmp_path_factory, write_single, 5, "--data_dir", "{data}", "--do_predict",
                              "--sentence_pooling", "mean", "--export_onnx", "--num_train_epochs", "4")


@pytest.fixture(scope="session")
def trained_regression(tiny_bert, tmp_path_factory):
    """An STS-B-format regressor that keeps its best checkpoint by Pearson correlation."""
    return trained_classifier(tiny_bert, tmp_path_factory, write_stsb, 3, "--task_name", "stsb", "--data_dir", "{data}",
                              "--eval_strategy", "epoch", "--save_strategy", "epoch", "--load_best_model_at_end",
                              "--metric_for_best_model", "pearson")


@pytest.fixture(scope="session")
def trained_multilabel(tiny_bert, tmp_path_factory):
    """A multi-label classifier from JSON lists, its thresholds tuned on dev."""
    return trained_classifier(tiny_bert, tmp_path_factory, write_multilabel, 4, "--train_file", "{data}/train.jsonl",
                              "--validation_file", "{data}/dev.jsonl", "--tune_thresholds")
