"""--use_bilstm (BERT + BiLSTM (+ CRF)) and --no_encoder (a BiLSTM-CRF on word embeddings of its own): the layers,
the vocabulary, and the saved folders in use through every script."""

import itertools
import json

import pytest
import torch
from transformers import AutoModelForTokenClassification, BertConfig, BertModel, pipeline

from tunekit.modeling.taggers import with_bilstm, with_crf
from tunekit.modeling.word_vocabulary import vocabulary, word_tokenizer
from tunekit.training.optimization import parameter_groups

from folders import copy_of
from conftest import NER_SAMPLE, conll_sentences, quick_ner_flags, run_program, tiny_config, train_flags

LABELS = ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"]


def small_config():
    return tiny_config(BertConfig, 50, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)),
                       label2id={label: i for i, label in enumerate(LABELS)})


def test_the_bilstm_sits_on_the_loaded_encoder_and_learns_at_the_head_rate():
    torch.manual_seed(0)
    config = small_config()
    encoder = BertModel(config)
    before = {name: value.clone() for name, value in encoder.state_dict().items() if "pooler" not in name}
    model = with_bilstm(encoder, config, 8, 2, 0.1)
    after = model.encoder.state_dict()
    assert all(torch.equal(after[name], value) for name, value in before.items())  # wrapping keeps the weights
    assert model.encoder.pooler is None and not hasattr(config, "tunekit_bilstm")  # the run's config is untouched
    groups = parameter_groups(model, set(), 1e-4, 0.0, head_learning_rate=1e-2)
    head = next(group for group in groups if group["lr"] == 1e-2)
    assert {name.split(".")[0] for name in head["names"]} == {"bilstm", "classifier"}
    assert all(name.startswith("encoder.") for group in groups if group["lr"] == 1e-4 for name in group["names"])


def test_a_sentence_scores_the_same_whatever_pads_it():
    torch.manual_seed(0)
    model = with_bilstm(BertModel(small_config()), small_config(), 8, 1, 0.1).eval()
    sentence = torch.randint(5, 50, (1, 6))
    alone = model(input_ids=sentence, attention_mask=torch.ones(1, 6, dtype=torch.long)).logits
    padded = torch.cat([sentence, torch.zeros(1, 4, dtype=torch.long)], dim=1)
    mask = torch.tensor([[1] * 6 + [0] * 4])
    beside = model(input_ids=padded, attention_mask=mask).logits[:, :6]
    assert torch.allclose(alone, beside, atol=1e-5)  # padding never reaches the backward direction


def test_the_bilstm_crf_decodes_the_best_path_of_its_scores():
    torch.manual_seed(1)
    config = small_config()
    tagger = with_bilstm(None, config, 8, 1, 0.0, embeddings=6)
    model = with_crf(tagger, tagger.config)
    model.eval()
    with torch.no_grad():
        for parameter in model.crf.parameters():
            parameter.normal_()
        ids = torch.randint(5, 50, (1, 4))
        emissions = model.tagger(input_ids=ids).logits
        decided = model(input_ids=ids).logits.argmax(-1)[0].tolist()
    transitions, start, end = model.crf.scores()

    def score(path):
        total = start[path[0]] + emissions[0, 0, path[0]] + end[path[-1]]
        return total + sum(transitions[path[t - 1], path[t]] + emissions[0, t, path[t]] for t in range(1, len(path)))

    paths = list(itertools.product(range(len(LABELS)), repeat=4))
    best = max(paths, key=lambda path: float(score(path)))
    assert tuple(decided) == best


def test_rare_and_unseen_words_are_read_as_characters_or_unknown():
    sentences = [["Anna", "visited", "Oslo"], ["Anna", "left", "Oslo"]]
    with_characters = word_tokenizer(vocabulary(sentences, 2, True))
    pieces = with_characters.tokenize("Anna visited Oil Lo")  # L: a character never seen in training
    assert pieces == ["Anna", "v", "##i", "##s", "##i", "##t", "##e", "##d", "O", "##i", "##l", "[UNK]"]
    words_only = word_tokenizer(vocabulary(sentences, 2, False))
    assert words_only.tokenize("Anna visited Oslo") == ["Anna", "[UNK]", "Oslo"]
    encoded = with_characters(["Anna", "visited"], is_split_into_words=True)
    assert encoded.word_ids()[:4] == [None, 0, 1, 1]


def check_folder_in_use(output, architecture, code_files):
    """What a user does with a tagger folder: load it anywhere, run the pipeline, eval.sh and predict.sh."""
    config = json.load(open(output / "config.json"))
    assert config["architectures"] == [architecture]
    assert all((output / name).exists() for name in code_files)
    model = AutoModelForTokenClassification.from_pretrained(str(output), trust_remote_code=True)
    assert type(model).__name__ == architecture
    tagger = pipeline("token-classification", model=str(output), trust_remote_code=True, aggregation_strategy="simple")
    assert all(e["entity_group"] in {"PER", "ORG", "LOC", "MISC"} for e in tagger("Anna Brandt visited Oslo ."))
    first = json.load(open(output / "eval_results.json"))["eval_f1"]
    again = run_program("sh", "scripts/eval.sh", str(output))
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.load(open(output / "eval_results.json"))["eval_f1"] == pytest.approx(first)
    predicted = run_program("sh", "scripts/predict.sh", str(output), input_text="Anna Brandt visited Oslo on Tuesday.\n")
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    result = json.loads(predicted.stdout)
    text = result["text"]
    assert all(text[e["start"]:e["end"]] == e["text"] for e in result["entities"])


def gold_words(path, count):
    return [[row[0] for row in sentence] for sentence in conll_sentences(path)][:count]


@pytest.mark.slow
@pytest.mark.parametrize("crf", [True, False])
def test_bert_bilstm_trains_saves_and_serves_every_script(tiny_bert, trained_bilstm, tmp_path, crf):
    output = tmp_path / "out"
    # short windows: long sentences are read in several windows, every word predicted once
    if crf:
        result = run_program(*quick_ner_flags(tiny_bert, output, "--use_bilstm", "--bilstm_hidden_size", "16",
                                              "--max_seq_length", "24", "--use_crf"))
        assert result.returncode == 0, result.stderr[-2000:]
    else:  # the shared BiLSTM folder (the same flags without --use_crf), copied: eval.sh writes into it
        output = copy_of(trained_bilstm, tmp_path)
    assert json.load(open(output / "config.json"))["tunekit_bilstm"] == {"hidden_size": 16, "layers": 1, "dropout": 0.1}
    written = conll_sentences(output / "predictions.txt")
    assert [[row[0] for row in s] for s in written] == gold_words(f"{NER_SAMPLE}/test.txt", 16)  # quick profile
    if crf:
        check_folder_in_use(output, "CrfForTokenClassification", ["modeling_crf.py", "modeling_bilstm.py"])
    else:
        check_folder_in_use(output, "BilstmForTokenClassification", ["modeling_bilstm.py"])


@pytest.mark.slow
def test_a_tagger_without_an_encoder_trains_from_its_own_vocabulary(tmp_path):
    output = tmp_path / "out"
    flags = train_flags("unused", output, "--no_encoder", "--embedding_size", "16", "--bilstm_hidden_size", "16",
                        "--learning_rate", "1e-2", "--max_seq_length", "8", "--num_train_epochs", "4")
    flags.remove("--model_name_or_path")
    flags.remove("unused")
    result = run_program(*flags)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--no_encoder: a vocabulary of" in result.stdout + result.stderr
    config = json.load(open(output / "config.json"))
    assert config["tunekit_bilstm"]["embeddings"] == 16 and config["num_hidden_layers"] == 0
    # every word of every sentence, those longer than a window of 6 pieces too, in input order
    written = conll_sentences(output / "predictions.txt")
    assert [[row[0] for row in s] for s in written] == gold_words(f"{NER_SAMPLE}/test.txt", 80)
    assert max(len(s) for s in written) > 6
    assert json.load(open(output / "eval_results.json"))["eval_f1"] > 0.3  # it learns from scratch
    check_folder_in_use(output, "CrfForTokenClassification", ["modeling_crf.py", "modeling_bilstm.py", "tokenizer.json"])
    card = (output / "README.md").read_text()  # the model card tells how it was built and how to load it
    assert "from scratch" in card and "(no pretrained encoder)" in card and "trust_remote_code=True)" in card
    assert "offline MiniLM" not in card


@pytest.mark.slow
def test_a_tagger_without_an_encoder_can_start_from_a_models_embeddings(tiny_bert, tmp_path):
    output = tmp_path / "out"
    result = run_program(*train_flags(tiny_bert, output, "--no_encoder", "--bilstm_hidden_size", "8",
                                     "--max_train_samples", "100", "--num_train_epochs", "1"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "word embeddings start from" in result.stdout + result.stderr
    saved = AutoModelForTokenClassification.from_pretrained(str(output), trust_remote_code=True)
    assert saved.tagger.get_input_embeddings().weight.shape == (BertConfig.from_pretrained(tiny_bert).vocab_size, 32)


@pytest.mark.parametrize("flags, named", [
    (["--bilstm_layers", "2"], "--bilstm_layers applies to --use_bilstm"),
    (["--min_word_count", "3"], "--min_word_count applies to --no_encoder"),
    (["--use_bilstm", "--export_onnx"], "--export_onnx covers an encoder"),
])
def test_bilstm_options_out_of_place_are_one_line_errors(tiny_bert, tmp_path, flags, named):
    result = run_program(*train_flags(tiny_bert, tmp_path / "out", *flags))
    assert result.returncode == 2 and named in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_the_search_trains_a_bilstm(tiny_bert, tmp_path):
    output = tmp_path / "out"
    result = run_program(*train_flags(tiny_bert, output, "--use_bilstm", "--bilstm_hidden_size", "8",
                                     "--hp_search_trials", "2", "--max_train_samples", "100"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert len((output / "hp_search_trials.tsv").read_text().splitlines()) == 3  # header and two trials
    assert json.load(open(output / "config.json"))["tunekit_bilstm"]["hidden_size"] == 8


@pytest.mark.slow
def test_early_stopping_keeps_the_best_bilstm(tiny_bert, tmp_path):
    output = tmp_path / "out"
    # No change of F1 can beat a threshold of 10, so the second evaluation already counts as a stall.
    result = run_program(*train_flags(tiny_bert, output, "--use_bilstm", "--use_crf", "--num_train_epochs", "6",
                                     "--early_stopping_patience", "1", "--early_stopping_threshold", "10",
                                     "--max_train_samples", "160"))
    assert result.returncode == 0, result.stderr[-2000:]
    state = json.load(open(output / "trainer_state.json"))
    assert state["epoch"] == 2.0
    best = max((entry for entry in state["log_history"] if "eval_f1" in entry), key=lambda entry: entry["eval_f1"])
    assert json.load(open(output / "eval_results.json"))["eval_f1"] == pytest.approx(best["eval_f1"])
