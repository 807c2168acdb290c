"""The training loss and time of the whole training, however many runs it took: a resumed run's own figures cover
only the steps after its checkpoint, so three runs ending in the same weights would report three losses.

The running totals are saved with every checkpoint as the state of a callback (trainer_state.json's
stateful_callbacks, transformers' public place for it) and read back from the checkpoint a run resumes."""

import json
import os
import time

import torch
from transformers import TrainerCallback
from transformers.trainer_callback import ExportableState

from tunekit.folder import TRAINER_STATE_FILE



class WholeTraining(TrainerCallback, ExportableState):
    """Adds up the training loss of every step (the quantity Trainer averages into train_loss) and the seconds
    spent training, including those of the runs a checkpoint came from."""

    def __init__(self, earlier_loss: float = 0.0, earlier_seconds: float = 0.0):
        self.earlier_loss, self.earlier_seconds = earlier_loss, earlier_seconds
        self.loss_sum: torch.Tensor | None = None  # this run's, on the loss's device (no sync per step)
        self.started: float | None = None
        self.resumed_at = 0  # the step of the checkpoint this run resumed

    def on_train_begin(self, args, state, control, **kwargs) -> None:
        self.started = time.perf_counter()

    def add(self, loss: 'torch.Tensor') -> None:
        step = loss.detach().float()
        self.loss_sum = step if self.loss_sum is None else self.loss_sum + step

    def loss(self) -> float:
        return self.earlier_loss + (float(self.loss_sum) if self.loss_sum is not None else 0.0)

    def seconds(self) -> float:
        return self.earlier_seconds + (time.perf_counter() - self.started if self.started is not None else 0.0)

    def state(self) -> dict:
        return {"args": {"earlier_loss": self.loss(), "earlier_seconds": self.seconds()}, "attributes": {}}

    def start(self, checkpoint: str | None) -> None:
        """A new call of train(): totals from zero (a hyperparameter search trains one Trainer again and again), or
        the totals saved with the checkpoint it resumes (none in one written before this callback existed)."""
        self.earlier_loss, self.earlier_seconds, self.loss_sum, self.started, self.resumed_at = 0.0, 0.0, None, None, 0
        path = os.path.join(checkpoint, TRAINER_STATE_FILE) if checkpoint else None
        if path is None or not os.path.isfile(path):
            return
        with open(path, encoding="utf-8") as stream:
            state = json.load(stream)
        self.resumed_at = int(state.get("global_step", 0))
        saved = state.get("stateful_callbacks", {}).get(type(self).__name__)
        if isinstance(saved, dict):
            self.earlier_loss = float(saved["args"]["earlier_loss"])
            self.earlier_seconds = float(saved["args"]["earlier_seconds"])

    def figures(self, global_step: int) -> dict:
        """train_loss and train_runtime of the whole training (and where it resumed, when it did)."""
        figures = {"train_loss": self.loss() / max(global_step, 1), "train_runtime": round(self.seconds(), 4)}
        if self.resumed_at:
            figures["train_resumed_at_step"] = self.resumed_at
        return figures
