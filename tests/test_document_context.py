"""--document_context: sentences read with the neighbouring sentences of their own document, scored and written
per sentence, every word exactly once; documents from -DOCSTART- lines and document_id fields."""

import json
import os

import datasets
import pytest

from conftest import NER_SAMPLE, REPO, conll_sentences, run_script, train_flags
from tunekit.data.readers import TokenReadOptions, read_token_file
from tunekit.data.token_data import documents_of
from tunekit.evaluation.ner_scorer import split_into_sentences

SENTENCES_PER_DOCUMENT = 7


def with_documents(source, target, every=SENTENCES_PER_DOCUMENT):
    """The sample's sentences with a -DOCSTART- line before every `every` of them; returns the sentences."""
    sentences = [(s["tokens"], s["tags"]) for s in read_token_file(source, TokenReadOptions())]
    lines = []
    for index, (tokens, tags) in enumerate(sentences):
        if index % every == 0:
            lines += ["-DOCSTART- -X- -X- O", ""]
        lines += [f"{token} {tag}" for token, tag in zip(tokens, tags)] + [""]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sentences


def test_conll_docstart_lines_number_the_documents(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("a O\n\n-DOCSTART- -X- O\n\nb O\n\nc O\n\n-DOCSTART- -X- O\n\nd O\n", encoding="utf-8")
    records = list(read_token_file(str(path), TokenReadOptions()))
    assert [r["document"] for r in records] == ["", "1", "1", "2"]
    plain = tmp_path / "plain.txt"
    plain.write_text("a O\n\nb O\n", encoding="utf-8")
    assert [r["document"] for r in read_token_file(str(plain), TokenReadOptions())] == ["", ""]


def test_json_and_csv_records_take_their_document_id(tmp_path):
    path = tmp_path / "train.jsonl"
    rows = [{"tokens": ["a"], "tags": ["O"], "document_id": 3}, {"tokens": ["b"], "tags": ["O"], "document_id": "x"},
            {"tokens": ["c"], "tags": ["O"]}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    assert [r["document"] for r in read_token_file(str(path), TokenReadOptions())] == ["3", "x", ""]
    table = tmp_path / "train.csv"
    table.write_text("tokens,tags,document_id\na b,O O,d1\nc,O,d1\n", encoding="utf-8")
    assert [r["document"] for r in read_token_file(str(table), TokenReadOptions())] == ["d1", "d1"]


def test_sentences_group_into_documents_and_predictions_split_back():
    sentences = datasets.Dataset.from_dict({
        "tokens": [["a", "b"], ["c"], ["d", "e", "f"], ["g"]], "tags": [["O", "O"], ["O"], ["O"] * 3, ["O"]],
        "line": [1, 4, 7, 12], "document": ["1", "1", "", "2"],
    })
    documents = documents_of(sentences)
    assert documents["tokens"] == [["a", "b", "c"], ["d", "e", "f"], ["g"]]
    assert documents["sentence_words"] == [[2, 1], [3], [1]] and documents["line"] == [1, 7, 12]
    predicted = [["A", "B", "C"], ["D", "E", "F"], ["G"]]
    assert split_into_sentences(predicted, documents["sentence_words"]) == [["A", "B"], ["C"], ["D", "E", "F"], ["G"]]
    assert documents_of(sentences.map(lambda row: {"document": ""})) is None


@pytest.mark.slow
def test_training_with_document_context_scores_and_writes_every_word_of_every_sentence(tiny_bert, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for split in ("train", "dev", "test"):
        expected = with_documents(os.path.join(NER_SAMPLE, f"{split}.txt"), data / f"{split}.txt")
    output = tmp_path / "out"
    flags = [flag for flag in train_flags(tiny_bert, output, "--document_context", "8", "--max_seq_length", "32")]
    flags[flags.index(NER_SAMPLE)] = str(data)
    result = run_script(*flags)
    assert result.returncode == 0, result.stderr[-2000:]
    log = result.stdout + result.stderr
    assert "test: 80 sentences in 12 documents, read as windows of 30 word pieces overlapping by 15" in log
    written = conll_sentences(output / "predictions.txt")
    assert [[row[0] for row in sentence] for sentence in written] == [tokens for tokens, _ in expected[:80]]
    assert [[row[1] for row in sentence] for sentence in written] == [tags for _, tags in expected[:80]]
    assert json.loads((output / "tunekit_args.json").read_text())["data"]["document_context"] == 8
    # the batch of 16 sentences became the windows that hold about 16 (600 sentences, 7 to a document)
    import yaml

    settled = yaml.safe_load((output / "run_config.yaml").read_text())
    assert "training sentences in" in log and ", so a batch of 16 sentences is" in log
    assert 1 <= settled["per_device_train_batch_size"] < 16 and settled["batch_in_sentences"] is False
    scores = json.loads((output / "predict_results.json").read_text())
    assert 0 <= scores["predict_f1"] <= 1

    again = run_script("sh", os.path.join(REPO, "scripts", "eval.sh"), str(output), cwd=str(tmp_path))
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads((output / "predict_results.json").read_text())["predict_f1"] == scores["predict_f1"]
    assert "trained with --document_context" not in again.stdout + again.stderr
    other = run_script("sh", os.path.join(REPO, "scripts", "eval.sh"), str(output), "--document_context", "0",
                       cwd=str(tmp_path))
    assert other.returncode == 0, other.stderr[-2000:]
    assert (other.stdout + other.stderr).count("was trained with --document_context 8, and this run reads with 0") == 1


def test_data_without_documents_is_read_sentence_by_sentence(tiny_bert, tmp_path):
    output = tmp_path / "out"
    result = run_script(*train_flags(tiny_bert, output, "--document_context", "8", "--num_train_epochs", "1",
                                     "--max_train_samples", "64"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "marks no documents (no -DOCSTART- lines or document_id): sentence by sentence" in result.stdout + result.stderr
    assert len(conll_sentences(output / "predictions.txt")) == 80
