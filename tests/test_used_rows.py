"""Training only the word-embedding rows the training data uses: the same model as training the whole matrix."""

import datasets
import pytest
import torch
from torch import nn
from transformers import AutoModelForTokenClassification, TrainingArguments

from tunekit.training.speed.used_rows import UsedRowsEmbedding, used_rows, restore_embeddings, train_used_rows_only
from tunekit.config.arguments import RunArguments
from tunekit.training.speed.switch import plan_speed
from tunekit.training.trainer import TunekitTrainer
from tunekit.tasks import get

USED = [2, 5, 6, 7, 9, 11, 40, 41, 300]  # the only ids in the training data


def training_data():
    generator = torch.Generator().manual_seed(3)
    rows = [[USED[i] for i in torch.randint(0, len(USED), (6,), generator=generator)] for _ in range(8)]
    return datasets.Dataset.from_dict({"input_ids": rows, "labels": [[i % 3 for i in row] for row in rows]})


def fresh_model(tiny_bert):
    torch.manual_seed(0)
    return AutoModelForTokenClassification.from_pretrained(tiny_bert, num_labels=3)


def train(model, data, steps=4):
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2, weight_decay=0.0, fused=True)
    ids, labels = torch.tensor(data["input_ids"]), torch.tensor(data["labels"])
    ids[0, -2:] = 0  # padding, as a collator adds it
    for step in range(steps):
        batch = slice(2 * (step % 4), 2 * (step % 4) + 2)
        torch.manual_seed(step)  # the same dropout for both models
        model(input_ids=ids[batch], labels=labels[batch]).loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()


def test_the_same_model_as_training_every_row(tiny_bert):
    data = training_data()
    full, compact = fresh_model(tiny_bert), fresh_model(tiny_bert)
    start = full.bert.embeddings.word_embeddings.weight.detach().clone()
    assert train_used_rows_only(compact, data)
    assert isinstance(compact.bert.embeddings.word_embeddings, UsedRowsEmbedding)
    train(full, data)
    train(compact, data)
    restore_embeddings(compact)
    assert type(compact.bert.embeddings.word_embeddings) is nn.Embedding
    assert [n for n, _ in compact.named_parameters()] == [n for n, _ in full.named_parameters()]
    for (name, a), b in zip(full.named_parameters(), compact.parameters()):
        assert torch.allclose(a, b, atol=1e-6), name
    weight = compact.bert.embeddings.word_embeddings.weight
    moved = (weight != start).any(dim=1).nonzero().flatten().tolist()
    assert moved == USED  # the used rows trained; the padding row and every other stayed


def test_state_dict_holds_the_plain_merged_weight_and_loads_back(tiny_bert):
    model = fresh_model(tiny_bert)
    key = "bert.embeddings.word_embeddings.weight"
    original = model.state_dict()[key].clone()
    train_used_rows_only(model, training_data())
    embedding = model.bert.embeddings.word_embeddings
    with torch.no_grad():
        embedding.trained.add_(1.0)
    state = model.state_dict()
    assert key in state and not any(name.endswith("trained") for name in state)
    assert torch.equal(state[key][USED], original[USED] + 1.0)
    assert torch.equal(state[key][[1, 3, 100]], original[[1, 3, 100]])
    state[key] = state[key] * 2  # load a checkpoint into the split embedding
    model.load_state_dict(state)
    assert embedding.rows.tolist() == [0] + USED  # the padding id joins the rows the data uses
    assert torch.equal(embedding.trained, (original[[0] + USED] + 1.0) * 2)
    assert torch.equal(embedding(torch.tensor([3])), original[[3]] * 2)


def test_ids_outside_the_training_data_read_their_original_rows(tiny_bert):
    model = fresh_model(tiny_bert)
    plain = model.bert.embeddings.word_embeddings
    expected = plain(torch.tensor([[5, 1000, 3, 300]])).detach()
    train_used_rows_only(model, training_data())
    assert torch.equal(model.bert.embeddings.word_embeddings(torch.tensor([[5, 1000, 3, 300]])), expected)


def test_rows_cover_the_data_plus_extra_ids():
    data = training_data()
    assert used_rows(data, [0, None]).tolist() == [0] + USED
    picked = data.select([3, 1])  # a selection may keep the whole table: more rows, never fewer
    assert set(used_rows(picked).tolist()) >= {i for row in picked["input_ids"] for i in row}
    assert used_rows(datasets.Dataset.from_dict({"text": ["a"]})) is None


def test_tied_input_and_output_embeddings_are_left_alone():
    model = nn.Module()
    model.embed = nn.Embedding(50, 4)
    model.head = nn.Linear(4, 50, bias=False)
    model.head.weight = model.embed.weight
    model.get_input_embeddings = lambda: model.embed
    model.get_output_embeddings = lambda: model.head
    assert not train_used_rows_only(model, training_data())


@pytest.mark.parametrize(
    "weight_decay, optim, expected",
    [(0.0, "adamw_torch_fused", True), (0.01, "adamw_torch_fused", False), (0.0, "sgd", False)],
)
def test_the_trainer_splits_only_where_other_rows_would_not_move(tiny_bert, tmp_path, weight_decay, optim, expected):
    model = fresh_model(tiny_bert)
    args = TrainingArguments(
        output_dir=str(tmp_path), use_cpu=True, report_to="none", weight_decay=weight_decay, optim=optim, do_train=True
    )
    plan = plan_speed(model, RunArguments(), args, training_data(), get("ner").speed)
    trainer = TunekitTrainer(model=model, args=args, train_dataset=training_data(), speed=plan)
    trainer.create_optimizer()
    assert isinstance(model.bert.embeddings.word_embeddings, UsedRowsEmbedding) == expected
