"""After training: the prediction CLI, charts, the model card, quiet runs, TensorBoard logs and ONNX export."""

import glob
import json
import os
import random
import re

import numpy as np
import pytest

from conftest import NER_SAMPLE, REPO, run_program
from tunekit.data.words import split_words
from tunekit.inference.ner import group_entities


ENTITY_TYPES = {"PER", "ORG", "LOC", "MISC"}
PREDICT = os.path.join(REPO, "scripts", "predict.sh")


def test_raw_text_is_split_into_words_with_offsets():
    assert split_words("Anna visited Oslo.") == [("Anna", 0, 4), ("visited", 5, 12), ("Oslo", 13, 17), (".", 17, 18)]
    assert [w for w, _, _ in split_words("张伟去北京, ok")] == ["张", "伟", "去", "北", "京", ",", "ok"]


def test_word_labels_group_into_spans():
    text = "Anna Brandt visited New York ."
    words = split_words(text)
    labels = ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O"]
    entities = group_entities(text, words, labels, [0.9, 0.7, 1.0, 0.8, 0.6, 1.0])
    assert entities == [
        {"type": "PER", "start": 0, "end": 11, "text": "Anna Brandt", "score": 0.8},
        {"type": "LOC", "start": 20, "end": 28, "text": "New York", "score": 0.7},
    ]


def read_json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_ner_prediction_from_stdin_and_files_keeps_input_order(trained_ner, tmp_path):
    texts = [
        "Anna Kowalski joined Helix Motors in Oslo last year .",
        " ".join(["Police in Lisbon arrested two men on Friday ."] * 40),  # longer than max_seq_length: windowed
        "张伟去北京",
        "Shares in Orion Telecom fell 3 percent after Tomas Rossi resigned .",
    ]
    piped = run_program("sh", PREDICT, str(trained_ner), input_text="\n".join(texts[:2] + ["", "   "] + texts[2:]) + "\n")
    assert piped.returncode == 0, piped.stderr[-2000:]
    lines = piped.stdout.splitlines()
    assert len(lines) == 6  # one output line per input line, blank ones included
    assert [json.loads(line) for line in lines[2:4]] == [{"text": "", "entities": []}, {"text": "   ", "entities": []}]
    results = [json.loads(line) for line in lines[:2] + lines[4:]]
    assert [r["text"] for r in results] == texts
    for result in results:
        for entity in result["entities"]:
            assert entity["type"] in ENTITY_TYPES
            assert result["text"][entity["start"] : entity["end"]] == entity["text"]
            assert 0 < entity["score"] <= 1
    assert results[0]["entities"], "the trained model should find entities in a training-like sentence"
    assert max(e["start"] for e in results[1]["entities"]) > 300, "entities found past the first window"

    reordered = tmp_path / "texts.jsonl"
    reordered.write_text("".join(json.dumps({"text": t}) + "\n" for t in reversed(texts)))
    from_file = run_program("sh", PREDICT, str(trained_ner), "--input", str(reordered), "--output", str(tmp_path / "o.jsonl"))
    assert from_file.returncode == 0, from_file.stderr[-2000:]
    assert read_json_lines((tmp_path / "o.jsonl").read_text()) == list(reversed(results))


@pytest.mark.slow
def test_classification_prediction_gives_label_names_and_probabilities(tiny_bert, tmp_path):
    rng = random.Random(3)
    rows = ["sentence\tlabel"] + [
        f"{rng.choice(['good', 'great'])} film\tpositive" if i % 2 else f"{rng.choice(['bad', 'dull'])} film\tnegative"
        for i in range(80)
    ]
    (tmp_path / "train.tsv").write_text("\n".join(rows) + "\n")
    (tmp_path / "dev.tsv").write_text("\n".join(rows[:21]) + "\n")
    trained = run_program(
        "run_glue.py", "--model_name_or_path", tiny_bert, "--data_dir", str(tmp_path), "--output_dir",
        str(tmp_path / "out"), "--do_train", "--do_eval", "--num_train_epochs", "2", "--learning_rate", "3e-3",
        "--save_strategy", "no", "--report_to", "none", "--quiet", "--logging_steps", "2", "--eval_strategy", "epoch",
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert trained.stdout == "" and "%|" not in trained.stderr  # --quiet: no tables, no progress bars
    for name in ("training_curves.png", "eval_confusion_matrix.png"):
        assert (tmp_path / "out" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    predicted = run_program("sh", PREDICT, str(tmp_path / "out"), input_text="a great film\n\na dull film\n")
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    results = [json.loads(line) for line in predicted.stdout.splitlines()]
    assert results[1] == {"text": "", "label": None, "probabilities": {}}  # a blank line keeps its place
    del results[1]
    assert [r["text"] for r in results] == ["a great film", "a dull film"]
    for result in results:
        assert result["label"] in {"positive", "negative"}
        assert sum(result["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)


def test_charts_and_model_card(trained_ner, monkeypatch):
    for name in ("training_curves.png", "eval_entity_scores.png", "eval_confusion_matrix.png", "test_entity_scores.png"):
        assert (trained_ner / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    from huggingface_hub import ModelCard

    card = ModelCard.load(str(trained_ner / "README.md"))
    assert card.data.pipeline_tag == "token-classification"
    assert card.data.library_name == "transformers"
    assert "f1" in card.data.metrics
    assert "| dev |" in card.text and "| test |" in card.text
    assert "`B-PER`" in card.text and 'pipeline("token-classification"' in card.text
    assert NER_SAMPLE not in card.text and "PATH" not in card.text and "-1" not in card.text
    assert "local files: folder `ner_sample`; sentences: train 600, dev 60, test 80" in card.text
    assert re.search(r"\| test \| PER \| \d\.\d{4} \| \d\.\d{4} \| \d\.\d{4} \| \d+ \|", card.text)
    assert re.search(r"\d+ s of training, final average training loss \d\.\d{4}, on CPU: .+, \d+ cores, (bf16|fp32)\.", card.text)
    assert "## Limitations" in card.text
    usage = card.text.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(trained_ner.parent)  # the card's own example runs, from the folder above the model
    exec(compile(usage, "README.md", "exec"), {"__name__": "__main__"})


def test_tensorboard_logs_are_written(trained_ner):
    assert glob.glob(str(trained_ner / "runs" / "**" / "events.out.tfevents.*"), recursive=True)


def test_onnx_export_gives_the_same_predictions(trained_ner):
    import onnxruntime
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(trained_ner))
    model = AutoModelForTokenClassification.from_pretrained(str(trained_ner)).eval()
    inputs = tokenizer(["Tomas Rossi flew to Kyoto .", "Helix Motors said on Tuesday that profits rose in Lima ."],
                       padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = model(**inputs).logits.numpy()
    session = onnxruntime.InferenceSession(str(trained_ner / "onnx" / "model.onnx"))
    names = [i.name for i in session.get_inputs()]
    actual = session.run(None, {name: inputs[name].numpy() for name in names})[0]
    assert np.allclose(actual, expected, atol=1e-4)
    assert (actual.argmax(-1) == expected.argmax(-1)).all()


def test_blank_json_lines_keep_their_place(tmp_path):
    from tunekit.inference.inputs import read_inputs

    path = tmp_path / "pairs.jsonl"
    path.write_text('{"text": "a", "text_pair": "b"}\n\n{"text": "c", "text_pair": "d"}\n')
    inputs = read_inputs(str(path))
    assert (inputs.texts, inputs.pairs, inputs.problems) == (["a", "", "c"], ["b", None, "d"], {})


def test_a_bad_line_gets_an_error_record_in_its_place_and_every_other_line_its_answer(trained_ner, monkeypatch):
    good = ["Anna Kowalski joined Helix Motors in Oslo last year .", "Police in Lisbon arrested two men ."]
    lines = [json.dumps({"text": good[0]}).encode(), b'{"text": "Anna \\ud800 Oslo"}', b"{not json",
             b'{"text": "Oslo \xff"}', b'{"label": 3}', b"", json.dumps({"text": good[1]}).encode()]
    done = run_program("sh", PREDICT, str(trained_ner), input_text=b"\n".join(lines) + b"\n")
    alone = run_program("sh", PREDICT, str(trained_ner), input_text="\n".join(good) + "\n")
    assert alone.returncode == 0
    expected = [json.loads(line) for line in alone.stdout.splitlines()]
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(records) == len(lines)  # output line N answers input line N
    assert records[0] == expected[0] and records[6] == expected[1] and records[5] == {"text": "", "entities": []}
    assert records[1] == {"line": 2, "error": "<stdin>:2: invalid Unicode: character 6 is half of a surrogate pair "
                                              "(U+D800), as a \\ud83d escape without its other half leaves"}
    assert records[2]["line"] == 3 and records[2]["error"].startswith("<stdin>:3: invalid JSON")
    assert records[3] == {"line": 4, "error": "<stdin>:4: bytes that are not UTF-8 at column 16"}
    assert records[4]["error"] == "<stdin>:5: no text: expected a string field text or sentence or sentence1 or " \
                                  "text_a or question"
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "error: 4 of 7 inputs could not be predicted; their output lines hold an error record in their place "
        "(first: <stdin>:2: invalid Unicode: character 6 is half of a surrogate pair (U+D800), as a \\ud83d escape "
        "without its other half leaves)")

    # a text the model itself fails on takes no other text of its batch down with it
    from tunekit.inference.predictor import predicted_records
    from tunekit.programs.predict import load_predictor

    predictor = load_predictor(str(trained_ner))
    original = predictor.predict
    monkeypatch.setattr(predictor, "predict", lambda texts, progress=None: original(texts, progress) if all(
        "Lisbon" not in text for text in texts) else 1 / 0)
    records = predicted_records(predictor, [good[0], good[1], good[0]], None)
    assert records[0] == records[2] == expected[0]
    assert records[1]["text"] == good[1] and "could not read this text" in records[1]["error"]
    assert predictor.records(good[:1], None) == expected[:1]


def test_prediction_input_and_flags_fail_in_one_line(tmp_path):
    for flags, message in ((["--inp", "x"], "error: unrecognized arguments: --inp x"),
                           (["--batch_size", "0"], "error: --batch_size must be 1 or more, not 0")):
        result = run_program("sh", PREDICT, str(tmp_path), *flags, input_text="")
        assert result.returncode == 2 and result.stderr.strip().splitlines() == [result.stderr.strip()]
        assert result.stderr.startswith(message)
