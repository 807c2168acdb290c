"""The fast CPU dropout: the distribution of torch's dropout, the same model outputs, a normal saved model."""

import copy
import json
import os

import pytest
import torch
from transformers import BertConfig, BertForTokenClassification, DebertaV2Config, DebertaV2ForTokenClassification

from conftest import run_program, tiny_config, train_flags
from tunekit.training.speed.fast_dropout import FastDropout, fast_dropout, keep_mask, use_fast_dropout


def test_every_lane_keeps_one_minus_p():
    torch.manual_seed(0)
    mask = keep_mask((250_000, 4), 0.1)  # column j comes from the j-th 16-bit slice of each random int64
    kept = mask.float().mean(dim=0)
    assert torch.all((kept - 0.9).abs() < 0.003), kept


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5])
def test_kept_fraction_follows_p(p):
    torch.manual_seed(1)
    assert abs(keep_mask((1_000_003,), p).float().mean().item() - (1 - p)) < 0.002


def test_same_seed_same_mask_other_seed_other_mask():
    torch.manual_seed(7)
    first = keep_mask((64, 32), 0.1)
    torch.manual_seed(7)
    again = keep_mask((64, 32), 0.1)
    torch.manual_seed(8)
    other = keep_mask((64, 32), 0.1)
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_kept_values_are_scaled_and_gradients_follow_the_mask():
    inputs = torch.randn(50, 40, requires_grad=True)
    out = fast_dropout(inputs, 0.2)
    dropped = out == 0
    assert 0.1 < dropped.float().mean().item() < 0.3
    torch.testing.assert_close(out[~dropped], inputs.detach()[~dropped] / 0.8)
    out.sum().backward()
    torch.testing.assert_close(inputs.grad, (~dropped).float() / 0.8)


def test_bf16_values_are_scaled_in_float_then_rounded():
    inputs = torch.randn(64, 64).bfloat16()
    out = fast_dropout(inputs, 0.1)
    kept = out != 0
    assert torch.equal(out[kept], (inputs[kept].float() / 0.9).bfloat16())  # not x * bf16(1 / 0.9), 0.2% short


def test_identity_when_evaluating_or_p_zero_and_zero_at_p_one():
    inputs = torch.randn(8, 8)
    assert fast_dropout(inputs, 0.5, training=False) is inputs
    assert fast_dropout(inputs, 0.0) is inputs
    assert torch.count_nonzero(fast_dropout(inputs, 1.0)) == 0
    layer = FastDropout(0.5).eval()
    assert torch.equal(layer(inputs), inputs)


def tiny_tagger(**extra):
    torch.manual_seed(0)
    return BertForTokenClassification(tiny_config(BertConfig, 500, num_labels=3, **extra))


def padded_batch():
    ids = torch.randint(5, 500, (3, 12))
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0
    mask[2, 3:] = 0
    return ids, mask


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
def test_swapped_model_gives_the_same_outputs(attention):
    ids, mask = padded_batch()
    model = tiny_tagger(attn_implementation=attention)
    reference = copy.deepcopy(model)
    assert use_fast_dropout(model) == sum(isinstance(m, torch.nn.Dropout) for m in reference.modules())
    assert all(type(m) is FastDropout for m in model.modules() if isinstance(m, torch.nn.Dropout))
    assert model.config._attn_implementation == f"tunekit_{attention}"
    model.eval(), reference.eval()
    torch.testing.assert_close(model(ids, attention_mask=mask).logits, reference(ids, attention_mask=mask).logits)
    # training mode, dropout so small that nothing is dropped: the attention path that applies it, padding masked
    for layer in model.modules():
        if isinstance(layer, torch.nn.Dropout):
            layer.p = 1e-12
    for layer in reference.modules():
        if isinstance(layer, torch.nn.Dropout):
            layer.p = 0.0
    model.train(), reference.train()
    real = mask.bool()
    torch.testing.assert_close(
        model(ids, attention_mask=mask).logits[real], reference(ids, attention_mask=mask).logits[real]
    )


def test_a_model_swapped_in_evaluation_mode_stays_deterministic():
    ids, mask = padded_batch()
    model = tiny_tagger().eval()  # as from_pretrained returns it
    use_fast_dropout(model)
    assert not any(m.training for m in model.modules())
    torch.testing.assert_close(model(ids, attention_mask=mask).logits, model(ids, attention_mask=mask).logits, rtol=0, atol=0)


def test_training_mode_drops_in_attention_and_hidden_layers():
    ids, mask = padded_batch()
    model = tiny_tagger(attn_implementation="eager")
    use_fast_dropout(model)
    model.train()
    torch.manual_seed(3)
    first = model(ids, attention_mask=mask).logits
    torch.manual_seed(3)
    again = model(ids, attention_mask=mask).logits
    torch.manual_seed(4)
    other = model(ids, attention_mask=mask).logits
    torch.testing.assert_close(first, again)
    assert not torch.allclose(first, other)


def test_other_attention_keeps_its_own_function_but_gets_fast_dropout_layers():
    torch.manual_seed(0)
    model = DebertaV2ForTokenClassification(tiny_config(DebertaV2Config, 500, num_labels=3))
    implementation = model.config._attn_implementation
    assert use_fast_dropout(model) > 0
    assert model.config._attn_implementation == implementation


def test_saved_model_is_a_plain_transformers_model(tmp_path):
    model = tiny_tagger(attn_implementation="sdpa")
    use_fast_dropout(model)
    model.save_pretrained(tmp_path)
    with open(os.path.join(tmp_path, "config.json")) as stream:
        assert "tunekit" not in json.dumps(json.load(stream))
    reloaded = BertForTokenClassification.from_pretrained(tmp_path)
    assert reloaded.config._attn_implementation in ("sdpa", "eager")
    assert not any(isinstance(m, FastDropout) for m in reloaded.modules())


@pytest.mark.slow
@pytest.mark.parametrize("flag, swapped", [((), True), (("--no_fast_dropout",), False)])
def test_runs_train_with_it_unless_turned_off(tiny_bert, tmp_path, flag, swapped):
    output = tmp_path / "out"
    result = run_program(*train_flags(
        tiny_bert, output, "--max_train_samples", "64", "--num_train_epochs", "1", "--save_strategy", "no", *flag
    ))
    assert result.returncode == 0, result.stderr[-2000:]
    log = result.stdout + result.stderr
    assert ("Fast dropout: 8 dropout layers swapped" in log) == swapped, log[-3000:]
    assert "tunekit" not in (output / "config.json").read_text()
    assert json.loads((output / "eval_results.json").read_text())["eval_f1"] >= 0


def test_gradient_checkpointing_recomputes_the_same_masks():
    model = tiny_tagger(attn_implementation="eager")
    checkpointed = copy.deepcopy(model)
    use_fast_dropout(model), use_fast_dropout(checkpointed)
    checkpointed.gradient_checkpointing_enable()
    ids, mask = padded_batch()
    labels = torch.where(mask.bool(), 1, -100)
    gradients = []
    for each in (model, checkpointed):
        each.train()
        torch.manual_seed(5)
        each(ids, attention_mask=mask, labels=labels).loss.backward()
        gradients.append(torch.cat([p.grad.flatten() for p in each.parameters() if p.grad is not None]))
    assert gradients[0].norm() > 0
    torch.testing.assert_close(gradients[0], gradients[1])
