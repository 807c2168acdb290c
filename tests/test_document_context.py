"""--document_context: sentences read with the neighbouring sentences of their own document, scored and written
per sentence, every word exactly once; documents from -DOCSTART- lines and document_id fields."""

import json
import os

import datasets
import pytest

from conftest import NER_SAMPLE, REPO, conll_sentences, run_program, train_flags
from tunekit.data.readers import TokenReadOptions, read_token_file
from tunekit.data.token_data import documents_of
from tunekit.encoding.ner import NerEncoder, sentence_windows
from tunekit.errors import UserError
from tunekit.evaluation.ner_scorer import split_into_sentences
from tunekit.data.words import split_words
from tunekit.inference.ner import NerPredictor
from tunekit.inference.sentences import sentence_lengths

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


def documents_data(folder):
    """The bundled sample with a -DOCSTART- line before every 7 sentences, in folder; returns the test sentences."""
    folder.mkdir()
    for split in ("train", "dev", "test"):
        expected = with_documents(os.path.join(NER_SAMPLE, f"{split}.txt"), folder / f"{split}.txt")
    return expected


def with_data(flags, folder):
    flags[flags.index(NER_SAMPLE)] = str(folder)
    return flags


def train_on_documents(model, tmp_path, *extra) -> tuple:
    """Train on the sample with documents into tmp_path/out; (output folder, log, the test sentences)."""
    expected = documents_data(tmp_path / "data")
    output = tmp_path / "out"
    result = run_program(*with_data(train_flags(model, output, "--document_context", "8", *extra), tmp_path / "data"))
    assert result.returncode == 0, result.stderr[-2000:]
    return output, result.stdout + result.stderr, expected


def test_conll_docstart_lines_number_the_documents(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("a O\n\n-DOCSTART- -X- O\n\nb O\n\nc O\n\n-DOCSTART- -X- O\n\nd O\n", encoding="utf-8")
    records = list(read_token_file(str(path), TokenReadOptions()))
    assert [r["document"] for r in records] == ["", "1", "1", "2"]
    plain = tmp_path / "plain.txt"
    plain.write_text("a O\n\nb O\n", encoding="utf-8")
    assert [r["document"] for r in read_token_file(str(plain), TokenReadOptions())] == ["", ""]


def test_json_and_csv_records_take_their_document_id_and_sentence_id(tmp_path):
    path = tmp_path / "train.jsonl"
    rows = [{"tokens": ["a"], "tags": ["O"], "document_id": 3, "sentence_id": 1},
            {"tokens": ["b"], "tags": ["O"], "document_id": "x"}, {"tokens": ["c"], "tags": ["O"]}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    records = list(read_token_file(str(path), TokenReadOptions()))
    assert [r["document"] for r in records] == ["3", "x", ""] and [r["sentence_id"] for r in records] == [1, -1, -1]
    table = tmp_path / "train.csv"
    table.write_text("tokens,tags,document_id,sentence_id\na b,O O,d1,1\nc,O,d1,0\n", encoding="utf-8")
    records = list(read_token_file(str(table), TokenReadOptions()))
    assert [r["document"] for r in records] == ["d1", "d1"] and [r["sentence_id"] for r in records] == [1, 0]
    path.write_text(json.dumps({"tokens": ["a"], "tags": ["O"], "document_id": 3, "sentence_id": "first"}) + "\n")
    with pytest.raises(UserError, match=r"train.jsonl:1: sentence_id must be a whole number of 0 or more, not 'first'"):
        list(read_token_file(str(path), TokenReadOptions()))


def test_sentences_group_into_documents_and_predictions_split_back():
    sentences = datasets.Dataset.from_dict({
        "tokens": [["a", "b"], ["c"], ["d", "e", "f"], ["g"]], "tags": [["O", "O"], ["O"], ["O"] * 3, ["O"]],
        "line": [1, 4, 7, 12], "document": ["1", "1", "", "2"], "sentence_id": [-1] * 4,
    })
    documents = documents_of(sentences)
    assert documents["tokens"] == [["a", "b", "c"], ["d", "e", "f"], ["g"]]
    assert documents["sentence_words"] == [[2, 1], [3], [1]] and documents["line"] == [1, 7, 12]
    predicted = [["A", "B", "C"], ["D", "E", "F"], ["G"]]
    assert split_into_sentences(predicted, documents["sentence_words"], documents["sentences"]) == [
        ["A", "B"], ["C"], ["D", "E", "F"], ["G"]]
    assert documents_of(sentences.map(lambda row: {"document": ""})) is None


def test_shuffled_sentences_are_put_in_document_order_and_predictions_back_in_input_order():
    # SpanMarker-style rows, shuffled: document d2's sentences 1, 0; d1's sentence 0 between them
    sentences = datasets.Dataset.from_dict({
        "tokens": [["c"], ["x"], ["a", "b"]], "tags": [["O"], ["O"], ["O", "O"]], "line": [1, 2, 3],
        "document": ["d2", "d1", "d2"], "sentence_id": [1, 0, 0],
    })
    documents = documents_of(sentences)
    assert documents["tokens"] == [["a", "b", "c"], ["x"]] and documents["sentences"] == [[2, 0], [1]]
    predicted = [["A", "B", "C"], ["X"]]
    assert split_into_sentences(predicted, documents["sentence_words"], documents["sentences"]) == [
        ["C"], ["X"], ["A", "B"]]


def test_each_sentence_gets_a_window_of_its_own_with_its_documents_context():
    pieces = {word: word for word in range(20)}  # one piece per word: sentences of 3, 2 and 15 words
    bounds, owner = sentence_windows(pieces, 20, [3, 2, 15], window=14, context=3, stride=4)
    # the first sentence has no left context; the second 3 pieces on each side; the third, longer than a window,
    # is read in overlapping windows of its own pieces
    assert bounds == [(0, 6), (0, 8), (5, 19), (15, 20)]
    assert [owner[word] for word in range(5)] == [0, 0, 0, 1, 1] and set(owner[word] for word in range(5, 20)) == {2, 3}
    assert all(bounds[owner[word]][0] <= word < bounds[owner[word]][1] for word in range(20))
    # a full window shares the room left: 4 pieces for a 10-piece sentence, on both sides or the side that has them
    assert sentence_windows(pieces, 20, [5, 10, 5], 14, 5, 4)[0][1] == (3, 17)
    assert sentence_windows(pieces, 20, [10, 10], 14, 5, 4)[0] == [(0, 14), (6, 20)]


def test_per_sentence_encoding_labels_each_word_once_in_its_own_sentences_window():
    from transformers import AutoTokenizer

    from tunekit.modeling.loading import default_model_path

    tokenizer = AutoTokenizer.from_pretrained(default_model_path())
    label2id = {"O": 0, "B-PER": 1, "I-PER": 2}
    words = "anna met tom . they walked home . it rained in the evening , so they stayed".split()
    tags = ["B-PER", "O", "B-PER", "O"] + ["O"] * (len(words) - 4)
    encoder = NerEncoder(tokenizer, label2id, 16, 4, False, sentence_context=4)
    features = encoder({"tokens": [words], "tags": [tags], "sentence_words": [[4, 4, len(words) - 8]]}, [0])
    labelled = [word for row in features["word_index"] for word in row if word >= 0]
    assert sorted(labelled) == list(range(len(words)))  # every word exactly once
    assert len(features["input_ids"]) == 3 and all(len(row) <= 16 for row in features["input_ids"])
    second = features["word_index"][1]
    assert [word for word in second if word >= 0] == [4, 5, 6, 7]
    # 4 pieces of context on each side of "they walked home ."
    assert tokenizer.decode(features["input_ids"][1], skip_special_tokens=True) == "anna met tom. they walked home. it rained in the"
    counted = [label for row in features["labels"] for label in row if label != -100]
    assert counted.count(1) == 2 and len(counted) == len(words)


def test_raw_text_splits_into_sentences_without_losing_an_offset():
    text = 'Anna Brandt visited Oslo. Then Mr. Smith met J. K. Rowling in the U.S. today! He said "Go." Then he left.\n张伟去北京。好'
    words = split_words(text)
    lengths = sentence_lengths(text, words)
    assert sum(lengths) == len(words)
    first, sentences = 0, []
    for length in lengths:
        sentences.append(text[words[first][1] : words[first + length - 1][2]])
        first += length
    assert sentences == ["Anna Brandt visited Oslo.", "Then Mr. Smith met J. K. Rowling in the U.S. today!",
                         'He said "Go."', "Then he left.", "张伟去北京。", "好"]


def test_a_text_is_predicted_as_its_sentences(tiny_bert):
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    model = AutoModelForTokenClassification.from_pretrained(
        tiny_bert, id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)}
    )
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    first, second = "Anna Brandt visited Oslo in May.", "Then Tom Smith met Rowling in Paris!"
    text = first + "  " + second
    alone = NerPredictor(model, tokenizer, 32)
    one, two, both = alone.predict([first, second, text])
    shift = len(first) + 2
    shifted = [dict(entity, start=entity["start"] + shift, end=entity["end"] + shift) for entity in two]
    assert one + two and both == one + shifted  # sentence by sentence, nothing running across the boundary
    for mode in ("windows", "sentence"):
        predictor = NerPredictor(model, tokenizer, 16, context=4, context_mode=mode)
        long_text = " ".join([first, second] * 6)
        for entity in predictor.predict([long_text])[0]:
            assert long_text[entity["start"] : entity["end"]] == entity["text"]


READ_AS = {
    "windows": "read as windows of 30 word pieces overlapping by 15",
    "sentence": "each sentence read with up to 8 word pieces of its document on each side (windows of at most 30)",
}


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["windows", "sentence"])
def test_training_with_document_context_scores_and_writes_every_word_of_every_sentence(tiny_bert, tmp_path, mode):
    output, log, expected = train_on_documents(
        tiny_bert, tmp_path, "--document_context_mode", mode, "--max_seq_length", "32"
    )
    assert f"test: 80 sentences in 12 documents, {READ_AS[mode]}" in log
    written = conll_sentences(output / "predictions.txt")
    assert [[row[0] for row in sentence] for sentence in written] == [tokens for tokens, _ in expected[:80]]
    assert [[row[1] for row in sentence] for sentence in written] == [tags for _, tags in expected[:80]]
    assert json.loads((output / "tunekit_args.json").read_text())["data"]["document_context"] == 8
    # the batch of 16 sentences became the windows that hold about 16 (600 sentences, 7 to a document)
    import yaml

    settled = yaml.safe_load((output / "run_config.yaml").read_text())
    assert "training sentences in" in log and ", so a batch of 16 sentences is" in log
    # windows hold several sentences; a sentence's own window holds one (a long sentence takes more)
    batch = settled["per_device_train_batch_size"]
    assert (1 <= batch < 16 if mode == "windows" else 16 <= batch < 20) and settled["batch_in_sentences"] is False
    scores = json.loads((output / "predict_results.json").read_text())
    assert 0 <= scores["predict_f1"] <= 1

    again = run_program("sh", os.path.join(REPO, "scripts", "eval.sh"), str(output), cwd=str(tmp_path))
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads((output / "predict_results.json").read_text())["predict_f1"] == scores["predict_f1"]
    assert "trained with --document_context" not in again.stdout + again.stderr
    other = run_program("sh", os.path.join(REPO, "scripts", "eval.sh"), str(output), "--document_context", "0",
                       cwd=str(tmp_path))
    assert other.returncode == 0, other.stderr[-2000:]
    trained = f"was trained with --document_context 8 --document_context_mode {mode}, and this run reads with"
    assert (other.stdout + other.stderr).count(f"{trained} --document_context 0:") == 1
    # predict.sh reads a raw text as a document of sentences, with the context the folder was trained with
    text = "Anna Brandt visited Oslo on Tuesday. Then Tom Smith flew to Paris with Helix Motors staff!"
    predicted = run_program("sh", os.path.join(REPO, "scripts", "predict.sh"), str(output), input_text=text + "\n")
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    result = json.loads(predicted.stdout)
    assert result["text"] == text
    for entity in result["entities"]:
        assert text[entity["start"] : entity["end"]] == entity["text"] and not entity["start"] < 36 < entity["end"]


@pytest.mark.slow
def test_data_without_documents_is_read_sentence_by_sentence(tiny_bert, tmp_path):
    output = tmp_path / "out"
    result = run_program(*train_flags(tiny_bert, output, "--document_context", "8", "--num_train_epochs", "1",
                                     "--max_train_samples", "64"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "marks no documents (no -DOCSTART- lines or document_id): sentence by sentence" in result.stdout + result.stderr
    assert len(conll_sentences(output / "predictions.txt")) == 80


@pytest.mark.slow
def test_per_sentence_context_with_auto_length_and_early_stopping(tiny_bert, tmp_path):
    output, log, _ = train_on_documents(
        tiny_bert, tmp_path, "--document_context_mode", "sentence", "--use_crf", "--max_seq_length", "auto",
        "--num_train_epochs", "6", "--early_stopping_patience", "1", "--early_stopping_threshold", "10",
    )
    assert "will be split into overlapping windows (lengths count 16 pieces of document context)" in log
    import yaml

    chosen = yaml.safe_load((output / "run_config.yaml").read_text())["max_seq_length"]
    assert f"each sentence read with up to 8 word pieces of its document on each side (windows of at most {chosen - 2})" in log
    state = json.loads((output / "trainer_state.json").read_text())
    assert state["epoch"] == 2.0  # early stopping: no gain can pass a threshold of 10
    assert len(conll_sentences(output / "predictions.txt")) == 80


@pytest.mark.slow
def test_the_search_counts_batches_in_sentences(tiny_bert, tmp_path):
    output, log, _ = train_on_documents(
        tiny_bert, tmp_path, "--max_seq_length", "32", "--hp_search_trials", "2", "--max_train_samples", "200",
        "--save_strategy", "no",
    )
    windows = int(log.split("training sentences in ")[1].split(" windows")[0])
    import torch

    trained = torch.load(output / "training_args.bin", weights_only=False)
    best = json.loads((output / "hp_search_best.json").read_text())
    # the search's batch sizes count sentences: the winner trains on the windows that hold that many
    assert trained.per_device_train_batch_size == max(1, round(best["per_device_train_batch_size"] * windows / 200))
    assert trained.per_device_train_batch_size < best["per_device_train_batch_size"]
    assert len(conll_sentences(output / "predictions.txt")) == 80
