"""Clipping folded into the fused AdamW step gives the update of clip_grad_norm_ followed by the step."""

import dataclasses
import pytest
import torch
from transformers import AutoModelForTokenClassification, TrainingArguments

from tunekit.training.speed.fold_clipping import clip_in_step, can_fold_clipping
from tunekit.training.speed.switch import SPEED_OFF, Choice
from tunekit.training.trainer import TunekitTrainer


def with_choice(**techniques):
    return dataclasses.replace(SPEED_OFF, **{name: Choice(on, "test") for name, on in techniques.items()})


def trained_pair(tiny_bert, max_norm, steps=3):
    torch.manual_seed(0)
    models = [AutoModelForTokenClassification.from_pretrained(tiny_bert, num_labels=3) for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    optimizers = [torch.optim.AdamW(m.parameters(), lr=1e-2, fused=True) for m in models]
    norms = ([], [])
    generator = torch.Generator().manual_seed(1)
    for _ in range(steps):
        ids = torch.randint(5, 1000, (4, 7), generator=generator)
        labels = torch.randint(0, 3, (4, 7), generator=generator)
        for model in models:
            model.zero_grad()
            model(input_ids=ids, labels=labels).loss.backward()
        norms[0].append(torch.nn.utils.clip_grad_norm_(models[0].parameters(), max_norm).item())
        optimizers[0].step()
        norms[1].append(clip_in_step(optimizers[1], models[1].parameters(), max_norm).item())
        optimizers[1].step()
        assert optimizers[1].grad_scale is None  # dropped after the step it was meant for
    return models, norms


@pytest.mark.parametrize("max_norm", [1e-3, 1e3])  # clipping every step, and never
def test_same_norms_and_parameters_as_clipping_then_stepping(tiny_bert, max_norm):
    (clipped, folded), (norms, folded_norms) = trained_pair(tiny_bert, max_norm)
    assert folded_norms == pytest.approx(norms, rel=1e-5)
    for (name, a), b in zip(clipped.named_parameters(), folded.parameters()):
        assert torch.allclose(a, b, atol=1e-6), name
    encoder_start = AutoModelForTokenClassification.from_pretrained(tiny_bert, num_labels=3).bert.state_dict()
    assert any(not torch.equal(value, encoder_start[name]) for name, value in clipped.bert.state_dict().items())


def test_only_fused_adam_without_a_grad_scaler_folds_it():
    weight = torch.nn.Parameter(torch.zeros(2))
    assert can_fold_clipping(torch.optim.AdamW([weight], fused=True))
    assert not can_fold_clipping(torch.optim.AdamW([weight], foreach=False))
    assert not can_fold_clipping(torch.optim.SGD([weight], lr=0.1))
    scaled = torch.optim.AdamW([weight], fused=True)
    scaled.found_inf = torch.zeros(())
    assert not can_fold_clipping(scaled)


def test_the_trainer_folds_clipping_into_its_fused_adamw(tiny_bert, tmp_path):
    model = AutoModelForTokenClassification.from_pretrained(tiny_bert, num_labels=3)
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none", optim="adamw_torch_fused")
    trainer = TunekitTrainer(model=model, args=args, speed=with_choice(fold_clipping=True))
    trainer.create_optimizer()
    model(input_ids=torch.tensor([[5, 6, 7]]), labels=torch.tensor([[0, 1, 2]])).loss.backward()
    norm = trainer._clip_grad_norm(model)
    expected = torch.nn.utils.get_total_norm([p.grad for p in model.parameters() if p.grad is not None])
    assert norm.item() == pytest.approx(expected.item())
    assert trainer.optimizer.grad_scale.item() == pytest.approx(max(expected.item() / args.max_grad_norm, 1.0), rel=1e-5)


def test_the_trainer_clips_in_its_own_pass_when_told(tiny_bert, tmp_path):
    model = AutoModelForTokenClassification.from_pretrained(tiny_bert, num_labels=3)
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, report_to="none", optim="adamw_torch_fused", max_grad_norm=1e-3)
    trainer = TunekitTrainer(model=model, args=args, speed=with_choice(fold_clipping=False))
    trainer.create_optimizer()
    model(input_ids=torch.tensor([[5, 6, 7]]), labels=torch.tensor([[0, 1, 2]])).loss.backward()
    trainer._clip_grad_norm(model)
    assert getattr(trainer.optimizer, "grad_scale", None) is None
    clipped = torch.nn.utils.get_total_norm([p.grad for p in model.parameters() if p.grad is not None])
    assert clipped.item() == pytest.approx(1e-3, rel=1e-3)
