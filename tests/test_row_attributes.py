"""Row attributes are named columns of the training rows, not markers in the label values: a per-row weight that
every head's gold loss honours (linear in the weights, 1 = as without it), carried per position in packed rows and
kept by the trainer for the objective; a row of weight 0 teaches nothing."""

from functools import partial

import datasets
import pytest
import torch

from tunekit.encoding import IGNORE_INDEX
from tunekit.encoding.row_attributes import LABEL_SET, ROW_WEIGHT, UNLABELLED, with_row_attribute
from tunekit.tasks.classification import ITEM_LOSSES
from tunekit.tasks.ner import crf_row_inputs
from tunekit.training.losses import loss_function
from tunekit.training.objective import GoldLoss, StepScale
from tunekit.data.problem_types import MULTI_LABEL, REGRESSION, SINGLE

RUN = type("Run", (), {"class_weights": None})()
WEIGHTED_ROWS = datasets.Dataset.from_dict({"labels": [0, 1], ROW_WEIGHT: [1.0, 1.0]})


class Given(torch.nn.Module):
    """A model of given logits: its own loss is the mean cross-entropy (as a token classifier computes it)."""

    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, input_ids=None, labels=None):
        loss = None if labels is None else torch.nn.functional.cross_entropy(
            self.logits.reshape(-1, self.logits.shape[-1]), labels.reshape(-1))
        return {"loss": loss, "logits": self.logits}


def tiny_crf(tiny_bert):
    from transformers import AutoConfig

    from tunekit.modeling.taggers.modeling_crf import CrfForTokenClassification

    config = AutoConfig.from_pretrained(tiny_bert, num_labels=3, id2label={0: "O", 1: "B-X", 2: "I-X"},
                                        label2id={"O": 0, "B-X": 1, "I-X": 2})
    torch.manual_seed(0)
    return CrfForTokenClassification(config).eval()  # no dropout: each call the same


HEADS = {  # head -> (logits shape, labels)
    "tokens": ((2, 5, 3), torch.tensor([[IGNORE_INDEX, 1, 2, 0, IGNORE_INDEX], [IGNORE_INDEX, 0, 0, IGNORE_INDEX, IGNORE_INDEX]])),
    SINGLE: ((2, 3), torch.tensor([2, 0])),
    MULTI_LABEL: ((2, 3), torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])),
    REGRESSION: ((2, 1), torch.tensor([0.3, -1.2])),
}


def gold_of(head: str, tiny_bert) -> tuple:
    """(the gold loss of a run whose rows carry weights, the model, its inputs without weights)."""
    if head == "crf":
        model = tiny_crf(tiny_bert)
        inputs = {"input_ids": torch.tensor([[101, 2000, 2001, 2002, 102], [101, 2003, 2004, 102, 0]]),
                  "attention_mask": torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]]),
                  "labels": torch.tensor([[IGNORE_INDEX, 1, 2, 0, IGNORE_INDEX], [IGNORE_INDEX, 1, 0, IGNORE_INDEX, IGNORE_INDEX]])}
        own = loss_function(RUN, WEIGHTED_ROWS, {}, own_loss=lambda model: True, row_inputs=partial(crf_row_inputs, None))
        return own, model, inputs
    shape, labels = HEADS[head]
    torch.manual_seed(1)
    model = Given(torch.randn(*shape))
    item_loss = ITEM_LOSSES[SINGLE if head == "tokens" else head]
    return loss_function(RUN, WEIGHTED_ROWS, {}, item_loss=item_loss), model, {"input_ids": torch.ones(2, 5, dtype=torch.long),
                                                                                "labels": labels}


@pytest.mark.parametrize("head", ["tokens", "crf", SINGLE, MULTI_LABEL, REGRESSION])
def test_a_rows_weight_scales_its_gold_loss_in_every_head(head, tiny_bert):
    gold, model, inputs = gold_of(head, tiny_bert)
    assert gold.function is not None or head == "crf"  # the run's rows carry weights: a loss of ours reads them

    def loss(*weights):
        return gold(model, model, {**inputs, ROW_WEIGHT: torch.tensor(weights)}, StepScale(), False)[0].item()

    plain = gold(model, model, inputs, StepScale(), False)[0].item()
    assert loss(1.0, 1.0) == pytest.approx(plain, rel=1e-6)
    assert loss(0.5, 2.0) == pytest.approx(0.5 * loss(1.0, 0.0) + 2.0 * loss(0.0, 1.0), rel=1e-5)
    assert loss(0.0, 0.0) == 0.0 and loss(1.0, 0.0) > 0
    if head == "tokens":  # a model's own loss: the same mean (checks that ours counts as the model's does)
        assert plain == pytest.approx(GoldLoss()(model, model, inputs, StepScale(), False)[0].item(), rel=1e-6)


def test_a_model_that_computes_its_own_loss_refuses_weights_it_cannot_honour():
    from tunekit.errors import UserError

    model = Given(torch.randn(2, 3))
    with pytest.raises(UserError, match="cannot weigh rows"):
        GoldLoss()(model, model, {"input_ids": torch.ones(2, 1, dtype=torch.long), "labels": torch.tensor([0, 1]),
                                  ROW_WEIGHT: torch.tensor([1.0, 0.5])}, StepScale(), False)


def test_packed_rows_carry_each_sentences_attributes_per_position():
    from tunekit.training.speed.packing import PackedBatches

    features = [{"input_ids": [5, 6, 7], "labels": [0, 1, 0], ROW_WEIGHT: 0.5, LABEL_SET: 0, UNLABELLED: 0},
                {"input_ids": [8, 9], "labels": [1, 0], ROW_WEIGHT: 2.0, LABEL_SET: -1, UNLABELLED: 1}]
    batch = PackedBatches(0, multiple=1, min_row_length=6)(features)
    assert batch["input_ids"].tolist() == [[5, 6, 7, 8, 9, 0]]
    assert batch[ROW_WEIGHT].tolist() == [[0.5, 0.5, 0.5, 2.0, 2.0, 1.0]]  # padding: the defaults
    assert batch[LABEL_SET].tolist() == [[0, 0, 0, -1, -1, -1]] and batch[UNLABELLED].tolist() == [[0, 0, 0, 1, 1, 0]]


def trained_head(tiny_bert, tmp_path, weight: float) -> torch.Tensor:
    """The classifier weights of a tiny tagger after two steps on rows of the given weight (learning rate 0.01)."""
    from transformers import AutoModelForTokenClassification, TrainingArguments

    from tunekit.training.objective import TrainingObjective
    from tunekit.training.trainer import TunekitTrainer

    torch.manual_seed(0)
    model = AutoModelForTokenClassification.from_pretrained(tiny_bert, num_labels=2)
    rows = datasets.Dataset.from_dict({"input_ids": [[101, 2000 + i, 102] for i in range(8)],
                                       "labels": [[IGNORE_INDEX, i % 2, IGNORE_INDEX] for i in range(8)],
                                       "example_id": list(range(8))})
    rows = with_row_attribute(rows, ROW_WEIGHT, [weight] * len(rows))
    args = TrainingArguments(output_dir=str(tmp_path / f"w{weight}"), per_device_train_batch_size=4, max_steps=2,
                             learning_rate=0.01, weight_decay=0.0, report_to=[], save_strategy="no", use_cpu=True)
    trainer = TunekitTrainer(model=model, args=args, train_dataset=rows,
                             training_objective=TrainingObjective(loss_function(RUN, rows, {})))
    first = next(iter(trainer.get_train_dataloader()))
    assert ROW_WEIGHT in first and "example_id" not in first  # kept for the objective; the rest dropped as Trainer does
    trainer.train()
    return model.classifier.weight.detach().clone()


def test_the_trainer_keeps_the_weights_for_the_objective_and_rows_of_weight_zero_teach_nothing(tiny_bert, tmp_path):
    from transformers import AutoModelForTokenClassification

    torch.manual_seed(0)
    start = AutoModelForTokenClassification.from_pretrained(tiny_bert, num_labels=2).classifier.weight.detach()
    untaught, taught = trained_head(tiny_bert, tmp_path, 0.0), trained_head(tiny_bert, tmp_path, 1.0)
    assert torch.equal(untaught, start) and not torch.allclose(taught, start)
