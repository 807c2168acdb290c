"""Two processes on CPU (gloo) give the same outputs as one: every word and example once, in input order."""

import json
import os
import shutil

import pytest

from conftest import NER_SAMPLE, REPO, conll_sentences, launch, run_program
from tunekit.evaluation.entity_scores import entity_scores


TORCHRUN = shutil.which("torchrun") or os.path.join(os.path.dirname(os.path.realpath(os.sys.executable)), "torchrun")
CPU_ENV = {"CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}


def ner_flags(model, output_dir):
    return [
        "--model_name_or_path", model, "--data_dir", NER_SAMPLE, "--output_dir", str(output_dir),
        "--do_train", "--do_eval", "--do_predict",
        "--max_train_samples", "200", "--max_eval_samples", "37", "--max_predict_samples", "41",
        "--num_train_epochs", "1", "--per_device_train_batch_size", "8", "--per_device_eval_batch_size", "4",
        "--learning_rate", "3e-3", "--save_strategy", "no", "--report_to", "none", "--disable_tqdm", "true",
    ]


def train_in(processes, script, flags):
    """One process: this one; several: torchrun starts them (the launch is what these tests are about)."""
    if processes == 1:
        return run_program(script, *flags, "--preprocessing_num_workers", "2", env=CPU_ENV)
    return launch(TORCHRUN, "--nproc_per_node", str(processes), os.path.join(REPO, script), *flags, env=CPU_ENV)


@pytest.mark.slow
def test_ner_two_processes_match_one(tiny_bert, tmp_path):
    single = train_in(1, "run_ner.py", ner_flags(tiny_bert, tmp_path / "one"))
    assert single.returncode == 0, single.stderr[-3000:]
    double = train_in(2, "run_ner.py", ner_flags(tiny_bert, tmp_path / "two"))
    assert double.returncode == 0, double.stderr[-3000:]
    one, two = conll_sentences(tmp_path / "one" / "predictions.txt"), conll_sentences(tmp_path / "two" / "predictions.txt")
    assert len(two) == len(one) == 41
    assert [[row[:2] for row in s] for s in two] == [[row[:2] for row in s] for s in one]
    labels = json.load(open(tmp_path / "one" / "config.json"))["id2label"].values()
    assert {row[2] for s in two for row in s} <= set(labels)
    results = json.load(open(tmp_path / "two" / "all_results.json"))
    assert results["eval_samples"] == 37 and results["predict_samples"] == 41
    # The reported test F1 is the F1 of the whole predictions file: nothing missing, nothing counted twice.
    scores = entity_scores(
        [[row[2] for row in s] for s in two], [[row[1] for row in s] for s in two]
    )
    assert results["predict_f1"] == pytest.approx(scores["overall_f1"])
    # One job split over two processes: half the optimizer steps, and one process logs the results.
    steps = [json.load(open(tmp_path / run / "trainer_state.json"))["global_step"] for run in ("one", "two")]
    assert steps == [25, 13]
    assert (double.stdout + double.stderr).count("Results (") == 1


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["windows", "sentence"])
def test_ner_document_context_in_two_processes_predicts_every_word_once(tiny_bert, tmp_path, mode):
    from test_document_context import documents_data, with_data

    expected = documents_data(tmp_path / "data")
    flags = ner_flags(tiny_bert, tmp_path / "two") + ["--document_context", "8", "--document_context_mode", mode,
                                                      "--max_seq_length", "32"]
    double = train_in(2, "run_ner.py", with_data(flags, tmp_path / "data"))
    assert double.returncode == 0, double.stderr[-3000:]
    written = conll_sentences(tmp_path / "two" / "predictions.txt")
    assert [[row[:2] for row in s] for s in written] == [[list(pair) for pair in zip(*sentence)] for sentence in expected[:41]]
    scores = entity_scores(
        [[row[2] for row in s] for s in written], [[row[1] for row in s] for s in written]
    )
    assert json.load(open(tmp_path / "two" / "all_results.json"))["predict_f1"] == pytest.approx(scores["overall_f1"])


@pytest.mark.slow
@pytest.mark.parametrize("tagger", [["--use_bilstm", "--use_crf"], ["--no_encoder"]])
def test_bilstm_taggers_in_two_processes_predict_every_word_once(tiny_bert, tmp_path, tagger):
    flags = ner_flags(tiny_bert, tmp_path / "two") + tagger + ["--bilstm_hidden_size", "16", "--max_seq_length", "16"]
    if tagger == ["--no_encoder"]:  # from scratch: its own vocabulary, not the model's
        at = flags.index("--model_name_or_path")
        del flags[at:at + 2]
    double = train_in(2, "run_ner.py", flags)
    assert double.returncode == 0, double.stderr[-3000:]
    written = conll_sentences(tmp_path / "two" / "predictions.txt")
    gold = conll_sentences(os.path.join(NER_SAMPLE, "test.txt"))[:41]
    assert [[row[0] for row in s] for s in written] == [[row[0] for row in s] for s in gold]
    scores = entity_scores(
        [[row[2] for row in s] for s in written], [[row[1] for row in s] for s in written]
    )
    assert json.load(open(tmp_path / "two" / "all_results.json"))["predict_f1"] == pytest.approx(scores["overall_f1"])
