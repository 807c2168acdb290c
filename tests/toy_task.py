"""A toy third task kept in the tests: count the capitalised words of a text (a number per text, a regression).

It is a plug-in like any user's: registered from outside the package (`tunekit.tasks.register`), it reads its own
JSON lines, encodes, scores, writes and predicts with its own code, and touches no file of tunekit. Its test
(test_toy_task.py) trains, evaluates, predicts and serves it through the suite's own programs.
"""

import json
import os
from dataclasses import dataclass

import datasets
import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, DataCollatorWithPadding

from tunekit.config.arguments import DataTrainingArguments
from tunekit.data.report import LabelKind
from tunekit.errors import UserError, at
from tunekit.evaluation.intervals import Statistics, divided
from tunekit.evaluation.scored import Scored, Scorer
from tunekit.files import atomic_write
from tunekit.inference.predictor import PredictorOptions, load_folder
from tunekit.modeling.loading import load_model
from tunekit.outputs.model_card import CardText
from tunekit.splits import prefix_of
from tunekit.tasks.base import (
    Encoded, Lengths, Recipe, SplitEvaluation, Task, TaskData, default_config_and_tokenizer,
)
from tunekit.training.speed.switch import SpeedSupport

FILES = {"train": "train.jsonl", "validation": "dev.jsonl", "test": "test.jsonl"}


@dataclass
class CountingArguments(DataTrainingArguments):
    """The shared data flags (--data_dir, --max_seq_length, ...) and nothing more."""


def capitalised(text: str) -> int:
    return sum(word[:1].isupper() for word in text.split())


def read_split(path: str) -> datasets.Dataset:
    """{"text": ..., "count": n} per line; a bad line is a one-line error naming it."""
    texts, counts = [], []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            try:
                record = json.loads(line)
                texts.append(str(record["text"]))
                counts.append([float(record["count"])])
            except (ValueError, KeyError, TypeError) as error:
                raise at(path, number, f"expected {{\"text\": ..., \"count\": N}} ({type(error).__name__})") from None
    # the data report's columns for texts: text_a, text_b, labels
    return datasets.Dataset.from_dict({"text_a": texts, "text_b": [None] * len(texts), "labels": counts})


class CountScorer(Scorer):
    def score(self, prediction) -> Scored:
        predicted = np.rint(np.asarray(prediction.predictions).reshape(-1))
        if prediction.label_ids is None:
            return Scored({}, predicted)
        gold = np.asarray(prediction.label_ids).reshape(-1)
        metrics = {"exact": float((predicted == gold).mean()), "mae": float(np.abs(predicted - gold).mean())}
        return Scored(metrics, predicted, gold)

    def statistics(self, scored: Scored) -> Statistics:
        rows = np.stack([scored.predicted == scored.gold, np.abs(scored.predicted - scored.gold),
                         np.ones(len(scored.gold))], axis=1)
        return Statistics(rows, {"exact": lambda sums: divided(sums[:, 0], sums[:, 2]),
                                 "mae": lambda sums: divided(sums[:, 1], sums[:, 2])})


class CountPredictor:
    labels = ["count"]
    accepts_pairs = False
    cuts_at_sentences = False
    shows = "labels"
    title = "Counting model"

    def __init__(self, model, tokenizer, max_length: int, batch_size: int):
        self.model, self.tokenizer, self.max_length, self.batch_size = model.eval(), tokenizer, max_length, batch_size

    def records(self, texts: list, pairs: list | None = None, progress=None) -> list[dict]:
        values = []
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = self.tokenizer(texts[start:start + self.batch_size], truncation=True, padding=True,
                                       max_length=self.max_length, return_tensors="pt")
                values += self.model(**batch).logits.reshape(-1).tolist()
        return [{"text": text, "value": round(value, 3)} for text, value in zip(texts, values)]


class Counting(Task):
    name = "counting"
    data_arguments = CountingArguments
    speed = SpeedSupport(equal_token_batches=False, no_packing="one number per text",
                         no_token_normaliser="one number per text")
    card = CardText("text-classification", "texts", lambda folder, remote: f"`sh scripts/predict.sh {folder}`",
                    lambda data_args: ["- A toy: it counts capitalised words."])

    @staticmethod
    def sections(prefix: str, scored: Scored, id2label) -> str:
        return f"<p>{prefix}: {len(scored.predicted)} texts counted</p>"

    def read(self, settings, base_config) -> TaskData:
        if not settings.data.data_dir:
            raise UserError("the counting task reads --data_dir (train.jsonl, dev.jsonl, test.jsonl)")
        splits = {split: (read_split(os.path.join(settings.data.data_dir, name)), name) for split, name in FILES.items()
                  if os.path.isfile(os.path.join(settings.data.data_dir, name))}
        return TaskData(splits, None, {"num_labels": 1, "problem_type": "regression"}, "counting", LabelKind.NUMBERS)

    def model_inputs(self, data, settings) -> tuple:
        return default_config_and_tokenizer(data, settings)

    def lengths(self, tokenizer, data_args) -> Lengths:
        return Lengths(lambda batch: [len(ids) for ids in tokenizer(batch["text_a"])["input_ids"]], "truncated")

    def encode(self, data, tokenizer, config, settings) -> Encoded:
        def encode(batch):
            encoded = tokenizer(batch["text_a"], truncation=True, max_length=settings.data.max_seq_length)
            return dict(encoded, labels=[labels[0] for labels in batch["labels"]],
                        length=[len(ids) for ids in encoded["input_ids"]])

        return Encoded({split: dataset.map(encode, batched=True, remove_columns=dataset.column_names)
                        for split, (dataset, _) in data.splits.items()})

    def recipe(self, data, encoded, config, tokenizer, settings) -> Recipe:
        return Recipe(DataCollatorWithPadding(tokenizer), "exact",
                      lambda trial=None: load_model(AutoModelForSequenceClassification, settings.model, config),
                      lambda plan: None, lambda model: {})

    def evaluations(self, data, encoded, config, settings) -> list:
        def write(output_dir: str, scored: Scored) -> None:
            atomic_write(os.path.join(output_dir, "counts.txt"), "".join(f"{int(v)}\n" for v in scored.predicted))

        return [SplitEvaluation(split, prefix_of(split), lambda decided: CountScorer(), write)
                for split in ("validation", "test") if split in data.splits]

    def predictor(self, folder, options: PredictorOptions) -> CountPredictor:
        loaded = load_folder(folder, lambda config: AutoModelForSequenceClassification, options)
        return CountPredictor(loaded.model, loaded.tokenizer, loaded.max_length, options.batch_size)


TASK = Counting()
