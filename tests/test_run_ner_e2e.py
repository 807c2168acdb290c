"""run_ner.py end to end on tiny random models: every output file, the predictions, reloading, eval.sh, resuming."""

import json
import os
import shutil
import stat

import pytest

from conftest import conll_sentences, launch, NER_SAMPLE, REPO, run_program, train_flags
from tunekit.data.readers import TokenReadOptions, read_token_file


ENTITY_TYPES = {"PER", "ORG", "LOC", "MISC"}


def key_values(path):
    with open(path, encoding="utf-8") as stream:
        pairs = [line.rstrip("\n").split(" = ") for line in stream]
    assert all(len(pair) == 2 for pair in pairs)
    return {key: float(value) for key, value in pairs}


def test_output_folder_holds_everything_a_user_keeps(trained_ner):
    names = set(os.listdir(trained_ner))
    for name in [
        "model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json", "training_args.bin",
        "trainer_state.json", "all_results.json", "train_results.json", "eval_results.json",
        "predict_results.json", "eval_results.txt", "test_results.txt", "predictions.txt",
        "eval_classification_report.txt", "test_classification_report.txt",
    ]:
        assert name in names, name
    assert [name for name in names if name.startswith("checkpoint-")] == ["checkpoint-76"]  # save_total_limit 1
    assert not [name for name in names if name.endswith((".bin", ".pt", ".pth")) and name != "training_args.bin"]
    assert not [name for name in names if name.startswith(".tmp")]
    config = json.load(open(trained_ner / "config.json"))
    assert set(config["id2label"].values()) == {"O"} | {f"{p}-{t}" for p in "BI" for t in ENTITY_TYPES}
    assert config["label2id"]["B-LOC"] == 0 and config["label2id"]["O"] == 8
    evaluation = key_values(trained_ner / "eval_results.txt")
    assert {"eval_f1", "eval_precision", "eval_recall", "eval_accuracy"} <= set(evaluation)
    assert evaluation["eval_samples"] == 60
    assert {f"eval_{kind}_{name}" for kind in ENTITY_TYPES for name in ("precision", "recall", "f1")} <= set(evaluation)
    assert key_values(trained_ner / "test_results.txt")["predict_samples"] == 80
    assert "PER" in (trained_ner / "test_classification_report.txt").read_text()
    all_results = json.load(open(trained_ner / "all_results.json"))
    assert {"train_loss", "eval_f1", "predict_f1"} <= set(all_results)


def test_predictions_hold_exactly_the_test_words(trained_ner):
    expected = list(read_token_file(os.path.join(NER_SAMPLE, "test.txt"), TokenReadOptions()))[:80]
    predicted = conll_sentences(trained_ner / "predictions.txt")
    assert [[row[0] for row in sentence] for sentence in predicted] == [r["tokens"] for r in expected]
    assert [[row[1] for row in sentence] for sentence in predicted] == [r["tags"] for r in expected]
    labels = {row[2] for sentence in predicted for row in sentence}
    assert labels <= {"O"} | {f"{p}-{t}" for p in "BI" for t in ENTITY_TYPES}


def test_saved_folder_reloads_and_the_pipeline_names_entities(trained_ner):
    from transformers import AutoModelForTokenClassification, pipeline

    model = AutoModelForTokenClassification.from_pretrained(str(trained_ner))
    assert model.config.id2label[8] == "O"
    tagger = pipeline("token-classification", model=str(trained_ner), aggregation_strategy="simple")
    entities = tagger("Anna Kowalski joined Helix Motors in Oslo last year .")
    assert entities, "the trained tiny model should find some entity"
    assert {entity["entity_group"] for entity in entities} <= ENTITY_TYPES


@pytest.mark.slow
def test_eval_script_rescores_the_saved_folder(trained_ner, tiny_bert, tmp_path):
    before = key_values(trained_ner / "eval_results.txt")
    result = run_program("sh", os.path.join(REPO, "scripts", "eval.sh"), str(trained_ner), cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    after = key_values(trained_ner / "eval_results.txt")
    assert after["eval_f1"] == pytest.approx(before["eval_f1"])
    assert after["eval_samples"] == 60
    assert key_values(trained_ner / "test_results.txt")["predict_samples"] == 80
    card = (trained_ner / "README.md").read_text()  # rewritten with the new scores, the training's settings kept
    assert "| train batch size per device | 16 |" in card and "| training length | 2 epochs |" in card
    assert f"from `{os.path.basename(tiny_bert)}` (a local folder)" in card and "on CPU: " in card


@pytest.mark.slow
def test_rerunning_a_finished_run_keeps_its_results_and_reevaluates(trained_ner, tiny_bert):
    before = json.load(open(trained_ner / "train_results.json"))
    card_before = (trained_ner / "README.md").read_text()
    weights = (trained_ner / "model.safetensors").read_bytes()
    result = run_program(*train_flags(tiny_bert, trained_ner))
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "already holds a trained model" in output and "Resuming from" not in output
    assert json.load(open(trained_ner / "train_results.json")) == before
    assert json.load(open(trained_ner / "all_results.json"))["train_loss"] == before["train_loss"]
    assert f"loss {before['train_loss']:.4f}" in output  # the closing table shows the real figures
    assert (trained_ner / "model.safetensors").read_bytes() == weights
    card = (trained_ner / "README.md").read_text()
    assert "0.0000" not in card and card.count(f"{before['train_loss']:.4f}") == card_before.count(f"{before['train_loss']:.4f}")
    assert key_values(trained_ner / "eval_results.txt")["eval_samples"] == 60
    train_only = [flag for flag in train_flags(tiny_bert, trained_ner) if flag not in ("--do_eval", "--do_predict")]
    nothing_else = run_program(*train_only)  # only --do_train asked: says so, touches nothing
    assert nothing_else.returncode == 0, nothing_else.stderr[-3000:]
    assert "already holds a trained model" in nothing_else.stdout + nothing_else.stderr
    assert json.load(open(trained_ner / "train_results.json")) == before


def test_files_get_the_usual_permissions(trained_ner):
    mask = os.umask(0o022)
    os.umask(mask)
    expected = 0o666 & ~mask
    for folder in [trained_ner] + [trained_ner / name for name in os.listdir(trained_ner) if name.startswith("checkpoint-")]:
        for name in os.listdir(folder):
            if os.path.isfile(folder / name):
                assert stat.S_IMODE(os.stat(folder / name).st_mode) == expected, (folder, name)


@pytest.mark.slow
def test_interrupted_rerun_resumes_and_a_folder_without_checkpoints_is_refused(trained_ner, tiny_bert, tmp_path):
    unfinished = tmp_path / "unfinished"
    shutil.copytree(trained_ner, unfinished)
    (unfinished / "train_results.json").unlink()  # as if killed after the last checkpoint
    result = run_program(*train_flags(tiny_bert, unfinished))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Resuming from" in result.stdout + result.stderr
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    refused = run_program(*train_flags(tiny_bert, occupied))
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1].startswith(f"error: {occupied}: the output folder already holds")
    assert (occupied / "notes.txt").read_text() == "mine"
    overwritten = run_program(*train_flags(tiny_bert, occupied, "--overwrite_output_dir", "--save_strategy", "no"))
    assert overwritten.returncode == 0, overwritten.stderr[-3000:]
    assert (occupied / "model.safetensors").exists() and (occupied / "notes.txt").read_text() == "mine"


@pytest.mark.slow
def test_roberta_with_prefix_space_trains_and_predicts_every_word(tiny_roberta, tmp_path):
    output_dir = tmp_path / "out"
    result = run_program(*train_flags(tiny_roberta, output_dir, "--max_seq_length", "24", "--save_strategy", "no"))
    assert result.returncode == 0, result.stderr[-3000:]
    expected = list(read_token_file(os.path.join(NER_SAMPLE, "test.txt"), TokenReadOptions()))[:80]
    predicted = conll_sentences(output_dir / "predictions.txt")
    assert [len(sentence) for sentence in predicted] == [len(record["tokens"]) for record in expected]


@pytest.mark.slow
@pytest.mark.parametrize("task", ["ner", "glue"])
def test_train_script_predicts_the_test_file_of_a_users_folder(task, tiny_bert, tmp_path):
    """As eval.sh does: a test file in --data_dir (or a corpus of --corpora) is predicted without asking for
    --do_predict."""
    data = tmp_path / "data"
    data.mkdir()
    if task == "ner":
        sample = open(os.path.join(NER_SAMPLE, "train.txt"), encoding="utf-8").read().split("\n\n")
        for name, part in (("train.txt", sample[:40]), ("dev.txt", sample[40:50]), ("test.txt", sample[50:60])):
            (data / name).write_text("\n\n".join(part) + "\n")
    else:
        rows = "".join(f"{word} film\t{label}\n" for word, label in [("good", 1), ("dull", 0)] * 10)
        for name in ("train.tsv", "dev.tsv", "test.tsv"):
            (data / name).write_text(rows)
    output = tmp_path / "out"
    # launched: train.sh's own shell logic (the task word, the data default, --predict_if_test_data) is under test
    # NER names its data as --corpora (the other way train.sh must not add its sample to), GLUE as --data_dir
    given = ["--corpora", f"sample={data}"] if task == "ner" else ["--data_dir", str(data)]
    result = launch(
        "sh", os.path.join(REPO, "scripts", "train.sh"), str(output), task, *given,
        "--model_name_or_path", tiny_bert, "--max_steps", "2", "--save_strategy", "no", "--eval_strategy", "no",
        "--disable_tqdm", "true",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (output / "predict_results.json").exists()
    assert (output / ("predictions.txt" if task == "ner" else "predict_results_classification.txt")).exists()


def test_settings_changed_for_the_user_are_warnings_and_long_sentences_raise_no_tokenizer_warning(tiny_bert, tmp_path):
    """A 2,000-word sentence is windowed, so transformers' "will result in indexing errors" is noise; a stride the
    windows cannot honour is changed, which a user must see among the warnings."""
    long_sentence = "\n".join("Anna B-PER" if i % 50 == 0 else "word O" for i in range(2000))
    for name in ("train.txt", "dev.txt"):
        (tmp_path / name).write_text("Anna B-PER\nwent O\n\n" + long_sentence + "\n", encoding="utf-8")
    done = run_program("run_ner.py", "--model_name_or_path", tiny_bert, "--data_dir", str(tmp_path), "--output_dir",
                       str(tmp_path / "out"), "--do_train", "--do_eval", "--max_steps", "1", "--report_to", "none",
                       "--save_strategy", "no", "--stride", "300", "--max_seq_length", "128")
    assert done.returncode == 0, done.stderr[-2000:]
    said = done.stdout + done.stderr
    assert "indexing errors" not in said
    assert "WARNING - tunekit - --stride 300 is more than half a window of 126 word pieces" in said
