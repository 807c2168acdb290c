"""--sentence_pooling (how run_glue.py reads the text vector) and --chunk_pooling attention (a long text's chunks
pooled inside the model): the pooling itself, the joined chunks, and the saved folders in use."""

import json
import random

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertConfig, BertModel, pipeline

from tunekit.data.problem_types import SINGLE
from tunekit.encoding.classification import ClassificationEncoder
from tunekit.modeling.pooling import AttentionPooling, trained_pooling, with_pooling
from tunekit.modeling.pooling.modeling_pooling import pool_tokens

from conftest import run_program, tiny_config
from folders import copy_of, key_values, train, write_single


def small_classifier(tokens, chunk_length=None):
    torch.manual_seed(0)
    config = tiny_config(BertConfig, 60, num_labels=2)
    model = with_pooling(BertModel(config), config, tokens, chunk_length).eval()
    for pooling in (model.token_attention, model.chunk_attention):
        if pooling is not None:  # away from the uniform start, so the weights differ between positions
            torch.nn.init.normal_(pooling.score.weight)
    return model


def test_attention_weights_sum_to_one_and_leave_out_padding():
    torch.manual_seed(0)
    pooling = AttentionPooling(8)
    torch.nn.init.normal_(pooling.score.weight)
    states = torch.randn(3, 5, 8)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]]).bool()
    weights = pooling.weights(states, mask)
    assert weights[:2].sum(dim=1).tolist() == pytest.approx([1.0, 1.0])
    assert (weights[~mask] == 0).all() and weights[2].sum() == 0  # an empty row pools to zero, not NaN
    changed = states.clone()
    changed[0, 3:] = 100.0  # what padding holds changes nothing
    assert torch.allclose(pooling(changed, mask)[0], pooling(states, mask)[0])


@pytest.mark.parametrize("how", ["mean", "max", "attention"])
def test_token_pooling_excludes_padding(how):
    model = small_classifier(how)
    ids = torch.randint(5, 60, (1, 6))
    alone = model(input_ids=ids, attention_mask=torch.ones(1, 6, dtype=torch.long)).logits
    padded = model(input_ids=torch.cat([ids, torch.zeros(1, 3, dtype=torch.long)], dim=1),
                   attention_mask=torch.tensor([[1] * 6 + [0] * 3])).logits
    assert torch.allclose(alone, padded, atol=1e-5)
    states, mask = torch.tensor([[[1.0], [3.0], [50.0]]]), torch.tensor([[True, True, False]])
    assert pool_tokens(states, mask, "mean").item() == 2.0 and pool_tokens(states, mask, "max").item() == 3.0


def test_chunk_attention_reads_each_chunk_alone_and_ignores_padding_chunks():
    model = small_classifier("cls", chunk_length=4)
    first, second = torch.randint(5, 60, (1, 4)), torch.randint(5, 60, (1, 3))
    text = torch.cat([first, second], dim=1)  # two chunks: 4 pieces and 3
    logits = model(input_ids=text, attention_mask=torch.ones(1, 7, dtype=torch.long)).logits
    # beside a longer text in a batch: padded by two more chunks of nothing
    batch = torch.zeros(2, 16, dtype=torch.long)
    batch[0, :7], batch[1] = text[0], torch.randint(5, 60, (16,))
    mask = torch.zeros(2, 16, dtype=torch.long)
    mask[0, :7], mask[1] = 1, 1
    assert torch.allclose(model(input_ids=batch, attention_mask=mask).logits[0], logits[0], atol=1e-5)
    # the chunk vectors are the [CLS] states of each chunk read alone, pooled with weights summing to one
    with torch.no_grad():
        vectors = torch.stack([model.encoder(input_ids=chunk).last_hidden_state[0, 0] for chunk in (first, second)])
        weights = model.chunk_attention.weights(vectors[None], torch.ones(1, 2, dtype=torch.bool))[0]
        expected = model.classifier(weights @ vectors)
    assert weights.sum().item() == pytest.approx(1.0) and torch.allclose(logits[0], expected, atol=1e-5)


def test_joined_chunks_pad_every_chunk_but_the_last(tiny_bert):
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    encoder = ClassificationEncoder(tokenizer, 8, "head", 0, SINGLE, {"0": 0, "1": 1}, True, 2, join_chunks=True)
    text = "one two three four five six seven eight nine ten"
    features = encoder({"text_a": [text, "short one"], "text_b": [None, None], "labels": [["1"], ["0"]]}, [0, 1])
    assert features["example_id"] == [0, 1] and features["labels"] == [1, 0]
    row = tokenizer.convert_ids_to_tokens(features["input_ids"][0])
    assert row == ["[CLS]", "one", "two", "three", "four", "five", "six", "[SEP]",
                   "[CLS]", "five", "six", "seven", "eight", "nine", "ten", "[SEP]"]
    assert len(features["input_ids"][1]) == 4 and features["length"] == [16, 4]


def test_a_sentence_transformers_folder_says_how_it_pools():
    from tunekit.modeling.loading import default_model_path

    assert trained_pooling(default_model_path()) == "mean"
    assert trained_pooling("sentence-transformers/all-MiniLM-L6-v2") is None  # offline here: the model's own head


def check_classifier_folder(output, texts):
    """Load the folder anywhere, run the pipeline, eval.sh (same accuracy) and predict.sh."""
    config = json.load(open(output / "config.json"))
    assert config["architectures"] == ["PooledForSequenceClassification"]
    assert (output / "modeling_pooling.py").exists()
    model = AutoModelForSequenceClassification.from_pretrained(str(output), trust_remote_code=True)
    assert type(model).__name__ == "PooledForSequenceClassification"
    classifier = pipeline("text-classification", model=str(output), trust_remote_code=True)
    assert classifier(texts[0])[0]["label"] in {"positive", "negative"}
    first = key_values(output / "eval_results.txt")["eval_accuracy"]
    again = run_program("sh", "scripts/eval.sh", str(output))
    assert again.returncode == 0, again.stderr[-2000:]
    assert key_values(output / "eval_results.txt")["eval_accuracy"] == pytest.approx(first)
    predicted = run_program("sh", "scripts/predict.sh", str(output), input_text="\n".join(texts) + "\n")
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    results = [json.loads(line) for line in predicted.stdout.splitlines()]
    assert [result["text"] for result in results] == texts
    assert all(sum(result["probabilities"].values()) == pytest.approx(1.0, abs=1e-4) for result in results)
    return config


@pytest.mark.slow
@pytest.mark.parametrize("how", ["mean", "attention"])
def test_sentence_pooling_trains_saves_and_exports(tiny_bert, trained_pooled, tmp_path, how):
    if how == "mean":  # the shared pooled folder, copied: eval.sh writes into it
        output = copy_of(trained_pooled, tmp_path)
    else:
        write_single(tmp_path, random.Random(5))
        output = train(tiny_bert, tmp_path / "out", "--data_dir", str(tmp_path), "--do_predict",
                       "--sentence_pooling", how, "--export_onnx", "--num_train_epochs", "4")
    config = check_classifier_folder(output, ["the film was great", "a dull plot"])
    assert config["tunekit_pooling"] == {"tokens": how}
    assert key_values(output / "eval_results.txt")["eval_accuracy"] > 0.8  # the sentiment word is learned
    assert (output / "onnx" / "model.onnx").exists()  # checked against PyTorch when written


@pytest.mark.slow
def test_chunk_attention_trains_end_to_end_and_predicts_every_text(tiny_bert, tmp_path):
    write_single(tmp_path, random.Random(7), words=60)  # several chunks of 32 pieces per text
    output = train(tiny_bert, tmp_path / "out", "--data_dir", str(tmp_path), "--do_predict",
                   "--long_text", "chunks", "--chunk_pooling", "attention", "--sentence_pooling", "max")
    config = check_classifier_folder(output, ["the film was great " * 20, "a dull plot"])
    assert config["tunekit_pooling"] == {"tokens": "max", "chunks": "attention", "chunk_length": 32}
    card = (output / "README.md").read_text()
    assert "chunks of 32 pieces by a learned attention" in card and "trust_remote_code=True)" in card
    assert key_values(output / "eval_results.txt")["eval_samples"] == 40
    lines = (output / "predict_results_classification.txt").read_text().splitlines()
    assert len(lines) == 31 and [int(line.split("\t")[0]) for line in lines[1:]] == list(range(30))


def test_chunk_attention_is_not_exported(tiny_bert, tmp_path):
    write_single(tmp_path, random.Random(7))
    result = run_program("run_glue.py", "--model_name_or_path", tiny_bert, "--data_dir", str(tmp_path),
                        "--output_dir", str(tmp_path / "out"), "--do_train", "--long_text", "chunks",
                        "--chunk_pooling", "attention", "--export_onnx")
    assert result.returncode == 2 and "--export_onnx covers the sentence poolings" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_auto_pooling_follows_how_a_sentence_encoder_was_trained(tiny_bert, tmp_path):
    import shutil

    model = tmp_path / "sentence_encoder"
    shutil.copytree(tiny_bert, model)
    (model / "1_Pooling").mkdir()
    (model / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_max_tokens": True}))
    write_single(tmp_path, random.Random(5))
    output = train(str(model), tmp_path / "out", "--data_dir", str(tmp_path), "--sentence_pooling", "auto")
    assert json.load(open(output / "config.json"))["tunekit_pooling"] == {"tokens": "max"}
    assert "sentence_pooling: max" in (output / "run_config.yaml").read_text()
    plain = train(tiny_bert, tmp_path / "plain", "--data_dir", str(tmp_path), "--sentence_pooling", "auto")
    assert json.load(open(plain / "config.json"))["architectures"] == ["BertForSequenceClassification"]


def test_a_pair_is_split_into_its_two_texts_each_read_alone(tiny_bert):
    from tunekit.modeling.pooling.modeling_pooling import split_pair

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    batch = tokenizer(["a cat sat", "dogs"], ["on the mat", "run fast and far away"], padding=True, return_tensors="pt")
    (ids_a, mask_a), (ids_b, mask_b) = split_pair(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    texts_a = [tokenizer.decode(ids[mask.bool()]) for ids, mask in zip(ids_a, mask_a)]
    texts_b = [tokenizer.decode(ids[mask.bool()]) for ids, mask in zip(ids_b, mask_b)]
    assert texts_a == ["[CLS] a cat sat [SEP]", "[CLS] dogs [SEP]"]
    assert texts_b == ["[CLS] on the mat [SEP]", "[CLS] run fast and far away [SEP]"]
    torch.manual_seed(0)
    config = tiny_config(BertConfig, tokenizer.vocab_size, num_labels=2)
    model = with_pooling(BertModel(config), config, "mean", None, siamese=True).eval()
    with torch.no_grad():
        logits = model(**batch).logits
        alone = [model.text_vector(dict(tokenizer(text, return_tensors="pt")))[0] for text in ("dogs", "run fast and far away")]
    u, v = alone
    assert torch.allclose(logits[1], model.classifier(torch.cat([u, v, (u - v).abs(), u * v])), atol=1e-5)


@pytest.mark.slow
def test_siamese_pairs_train_save_and_predict(tiny_bert, tmp_path):
    from folders import write_mrpc

    write_mrpc(tmp_path, random.Random(2))
    output = train(tiny_bert, tmp_path / "out", "--task_name", "mrpc", "--data_dir", str(tmp_path),
                   "--pair_encoding", "siamese", "--sentence_pooling", "mean", "--export_onnx", "--num_train_epochs", "1")
    config = json.load(open(output / "config.json"))
    assert config["tunekit_pooling"] == {"tokens": "mean", "pairs": "siamese"}
    assert (output / "onnx" / "model.onnx").exists()
    classifier = pipeline("text-classification", model=str(output), trust_remote_code=True)
    assert classifier({"text": "the film was good", "text_pair": "the film was good"})["label"] in {"0", "1"}
    first = key_values(output / "eval_results.txt")["eval_accuracy"]
    assert run_program("sh", "scripts/eval.sh", str(output)).returncode == 0
    assert key_values(output / "eval_results.txt")["eval_accuracy"] == pytest.approx(first)
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"text": "a good film", "text_pair": "a fine film"}) + "\n")
    predicted = run_program("sh", "scripts/predict.sh", str(output), "--input", str(pairs))
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    assert json.loads(predicted.stdout)["text_pair"] == "a fine film"
    single = run_program("run_glue.py", "--model_name_or_path", tiny_bert, "--output_dir", str(tmp_path / "single"),
                        "--train_file", str(tmp_path / "train.tsv"), "--text_column_names", "3",
                        "--label_column_name", "0", "--do_train", "--pair_encoding", "siamese")
    assert single.returncode == 2 and "--pair_encoding siamese is for sentence pairs" in single.stderr
