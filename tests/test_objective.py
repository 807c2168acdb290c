"""The training objective is a plug-in point: the gold loss and weighted terms, each batch's share of the optimizer
step decided in one place (StepScale), and a term kept outside the package (consistency_term.py) training a tagger
and a classifier, alone and together with distillation, without a change to tunekit."""

import json
import random

import pytest
import torch

import consistency_term
from conftest import quick_ner_flags
from folders import write_mrpc
from in_process import run_program
from tunekit.errors import UserError
from tunekit.training.losses import CrossEntropyLoss
from tunekit.training.objective import GoldLoss, StepScale, TrainingObjective, objective_of, register_term

ONE_STEP = ("--max_steps", "1", "--logging_steps", "1", "--learning_rate", "0", "--save_strategy", "no",
            "--precision", "fp32")


class Tokens(torch.nn.Module):
    """A tagger of given logits, with a trainable offset."""

    def __init__(self, logits):
        super().__init__()
        self.logits, self.offset = logits, torch.nn.Parameter(torch.zeros(()))

    def forward(self, input_ids=None, attention_mask=None, labels=None):
        return {"logits": self.logits + self.offset}


class Constant:
    def __init__(self, value):
        self.value = value

    def __call__(self, batch):
        return batch.scale.of_mean(torch.tensor(self.value))


def test_accumulated_batches_add_up_to_the_mean_over_the_step_and_terms_join_with_their_weight():
    torch.manual_seed(0)
    first, second = torch.randn(2, 4, 3), torch.randn(1, 4, 3)
    labels_1 = torch.tensor([[-100, 0, 1, 2], [-100, 1, -100, -100]])
    labels_2 = torch.tensor([[-100, 2, 2, -100]])
    objective = TrainingObjective(GoldLoss(CrossEntropyLoss())).with_term(0.25, Constant(8.0))
    batches = [{"input_ids": torch.ones(2, 4, dtype=torch.long), "labels": labels_1},
               {"input_ids": torch.ones(1, 4, dtype=torch.long), "labels": labels_2}]
    items = objective.items_in_step(batches, None, len, lambda count: count)
    assert int(items) == 6  # the step's labelled tokens, counted where Trainer does not
    total = sum(objective(model, model, dict(batch, labels=batch["labels"]), StepScale(items, 2), False)[0]
                for model, batch in ((Tokens(first), batches[0]), (Tokens(second), batches[1])))
    every_token = torch.cat([first.reshape(-1, 3), second.reshape(-1, 3)])
    mean = torch.nn.functional.cross_entropy(every_token, torch.cat([labels_1.reshape(-1), labels_2.reshape(-1)]))
    assert total.item() == pytest.approx(mean.item() + 0.25 * 8.0, rel=1e-5)  # each term: its share of the step
    # a model's own mean loss (a CRF's) is divided by the step's batches
    own = TrainingObjective(GoldLoss())
    model = torch.nn.Linear(1, 1)
    model.forward = lambda **inputs: {"loss": torch.tensor(3.0), "logits": torch.zeros(1)}
    assert own(model, model, batches[0], StepScale(None, 2), False)[0].item() == pytest.approx(1.5)


def test_trainer_still_takes_the_word_that_the_loss_is_scaled():
    """TunekitTrainer sets Trainer's public loss_is_scaled_for_ga: without it Trainer would divide again."""
    from transformers import Trainer

    from tunekit.training.trainer import TunekitTrainer

    assert "loss_is_scaled_for_ga" in vars(Trainer) and TunekitTrainer.loss_is_scaled_for_ga is True


def test_unknown_terms_are_one_line_errors():
    with pytest.raises(UserError, match="--objective_terms nothing: not a registered term"):
        objective_of(None, ["nothing"], None)
    with pytest.raises(UserError, match="cannot load no_such_module:term"):
        objective_of(None, ["no_such_module:term=2"], None)
    with pytest.raises(UserError, match="the weight after '=' must be a number"):
        objective_of(None, ["consistency_term:consistency=heavy"], None)


def first_step_loss(output) -> float:
    history = json.loads((output / "trainer_state.json").read_text())["log_history"]
    return next(entry["loss"] for entry in history if "loss" in entry)


def with_and_without_the_term(run, tmp_path, name, *flags) -> tuple:
    """(the first step's loss without the term, with it, what the term returned): one step at learning rate 0."""
    consistency_term.RETURNED.clear()
    plain = run(tmp_path / f"{name}-plain", *flags)
    assert not consistency_term.RETURNED
    joined = run(tmp_path / f"{name}-term", *flags, "--objective_terms", "consistency=0.5")
    assert len(consistency_term.RETURNED) == 1 and consistency_term.RETURNED[0] > 0  # dropout: two passes differ
    return first_step_loss(plain), first_step_loss(joined), consistency_term.RETURNED[0]


def tagger(tiny_bert):
    def run(output, *flags):
        quick = [str(flag) for flag in quick_ner_flags(tiny_bert, output, *ONE_STEP, *flags)]
        for stage in ("--do_eval", "--do_predict"):
            quick.remove(stage)
        result = run_program(*quick)
        assert result.returncode == 0, result.stderr[-3000:]
        return output
    return run


def classifier(data):
    def run(output, *flags):
        result = run_program("run_glue.py", "--task_name", "mrpc", "--data_dir", data, "--output_dir", output,
                             "--do_train", "--per_device_train_batch_size", "8", "--max_seq_length", "32",
                             "--report_to", "none", *ONE_STEP, *flags)
        assert result.returncode == 0, result.stderr[-3000:]
        return output
    return run


@pytest.fixture
def registered():
    register_term("consistency", "consistency_term:consistency")


@pytest.mark.slow  # eight one-step trainings
def test_a_term_from_outside_the_package_trains_a_tagger_and_a_classifier_alone_and_with_a_teacher(
        registered, tiny_bert, trained_crf, trained_pairs, tmp_path):
    data = tmp_path / "mrpc"
    data.mkdir()
    write_mrpc(data, random.Random(3))
    student = ("--distill_from", trained_crf, "--student_layers", "1")
    for run, name, teacher in ((tagger(tiny_bert), "tagger", student),
                               (classifier(data), "classifier", ("--distill_from", trained_pairs))):
        plain, joined, share = with_and_without_the_term(run, tmp_path, name)
        assert joined == pytest.approx(plain + 0.5 * share, rel=1e-3)
        distilled, both, share = with_and_without_the_term(run, tmp_path, f"{name}-distilled", *teacher)
        assert both == pytest.approx(distilled + 0.5 * share, rel=1e-3)
        assert distilled != pytest.approx(plain, rel=1e-3)  # the teacher's term is in the loss too
