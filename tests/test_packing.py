"""Packed training batches: every sentence once, its own positions, attention kept to itself, the outputs of
the padded batch, and run_ner.py training on them."""

import json

import pytest
import torch
from transformers import (
    BertConfig, BertForTokenClassification, DebertaV2Config, DebertaV2ForTokenClassification, RobertaConfig,
    RobertaForTokenClassification,
)

from conftest import run_program, tiny_config, train_flags
from tunekit.modeling.taggers import with_crf
from tunekit.training.speed.fast_dropout import use_fast_dropout
from tunekit.encoding import IGNORE_INDEX
from tunekit.training.speed.packing import PackedBatches, first_fit_rows, packer_for, supports_packing


def test_first_fit_places_every_sentence_once_within_the_capacity():
    lengths = [9, 3, 7, 2, 5, 1, 8, 4]
    rows = first_fit_rows(lengths, 10)
    assert sorted(i for row in rows for i in row) == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in row) <= 10 for row in rows)
    assert len(rows) == 4  # 39 tokens: the fewest rows of 10


def features(*lengths):
    start = 10
    out = []
    for length in lengths:
        out.append({"input_ids": list(range(start, start + length)), "labels": [length] * length,
                    "token_type_ids": [0] * length})
        start += length
    return out


def test_a_packed_batch_keeps_tokens_labels_positions_and_separates_sentences():
    batch = PackedBatches(pad_token_id=0, multiple=8)(features(6, 3, 2, 9))
    rows, width = batch["input_ids"].shape
    assert width == 16 and rows == 2  # the longest (9) rounded to 8; 20 tokens in two rows of 16
    real = batch["labels"] != IGNORE_INDEX
    assert real.sum() == 20 and sorted(batch["input_ids"][real].tolist()) == list(range(10, 30))
    mask = batch["attention_mask"][:, 0]
    for r in range(rows):
        for i in range(width):
            for j in range(width):
                same_sentence = bool(real[r, i] and real[r, j] and batch["labels"][r, i] == batch["labels"][r, j])
                assert bool(mask[r, i, j]) == same_sentence or not (real[r, i] and real[r, j])
    # positions restart at every sentence
    first = batch["input_ids"] == 10
    assert batch["position_ids"][first].item() == 0
    assert set(batch["position_ids"][batch["labels"] == 9].tolist()) == set(range(9))
    assert mask[~real[:, :, None] & ~real[:, None, :]].all()  # a row's padding attends to itself


def test_additive_mask_for_eager_attention():
    batch = PackedBatches(0, multiple=4, additive_mask=True)(features(2, 1))  # one row: a a b pad
    mask = batch["attention_mask"][0, 0]
    assert mask.dtype == torch.float32 and mask[0, 1] == 0 and mask[0, 2] == torch.finfo(torch.float32).min


def tagger(model_class, config_class, **extra):
    torch.manual_seed(0)
    return model_class(tiny_config(config_class, 500, num_labels=3, **extra))


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
@pytest.mark.parametrize("fast", [False, True])
def test_packed_outputs_equal_padded_outputs(attention, fast):
    model = tagger(BertForTokenClassification, BertConfig, attn_implementation=attention)
    if fast:
        use_fast_dropout(model)
    assert supports_packing(model)
    model.eval()
    sentences = features(7, 4, 11, 3, 5)
    packed = packer_for(model, 8)(sentences)
    labels = packed.pop("labels")
    logits = model(**packed).logits[labels != IGNORE_INDEX]
    for sentence in sentences:  # each sentence alone gives the logits it has in the packed rows
        alone = model(torch.tensor([sentence["input_ids"]])).logits[0]
        where = (labels == sentence["labels"][0])
        torch.testing.assert_close(logits[where[labels != IGNORE_INDEX]], alone, atol=1e-5, rtol=1e-4)


def test_roberta_positions_start_after_the_padding_index():
    model = tagger(RobertaForTokenClassification, RobertaConfig, pad_token_id=1)
    assert packer_for(model, 8).first_position == 2 and supports_packing(model)
    model.eval()
    wrong = PackedBatches(1, first_position=0, multiple=8)(features(5, 3))
    right = packer_for(model, 8)(features(5, 3))
    wrong.pop("labels"), right.pop("labels")
    alone = model(torch.tensor([features(5)[0]["input_ids"]])).logits[0]
    torch.testing.assert_close(model(**right).logits[0, :5], alone, atol=1e-5, rtol=1e-4)
    assert not torch.allclose(model(**wrong).logits[0, :5], alone, atol=1e-3)


def test_models_that_cannot_take_packed_sentences_are_not_packed():
    assert not supports_packing(tagger(DebertaV2ForTokenClassification, DebertaV2Config))
    model = tagger(BertForTokenClassification, BertConfig)
    assert not supports_packing(with_crf(model, model.config))


@pytest.mark.slow
@pytest.mark.parametrize("flags, packed", [
    ((), True), (("--no_pack_sequences",), False), (("--no_length_bucketing",), False), (("--use_crf",), False),
])
def test_run_ner_trains_on_packed_batches_unless_it_cannot(tiny_bert, tmp_path, flags, packed):
    output = tmp_path / "out"
    result = run_program(*train_flags(tiny_bert, output, "--num_train_epochs", "1", "--save_strategy", "no", *flags))
    assert result.returncode == 0, result.stderr[-2000:]
    log = result.stdout + result.stderr
    assert ("packing: on (" in log) == packed, log[-3000:]
    state = json.loads((output / "trainer_state.json").read_text())
    assert state["global_step"] == 38  # 600 sentences in batches of 16, packed or not
    assert json.loads((output / "eval_results.json").read_text())["eval_f1"] >= 0
