"""Ctrl-C or SIGTERM during training stop it at the next step boundary with a checkpoint of that step, and the run
ends with one line that says where the same command continues: not a 50-line KeyboardInterrupt, and not the step's
work lost. A second Ctrl-C stops at once (the newest checkpoint stands). One process only: under a launcher each
process would see the signal at its own step, so there the launcher's own handling stands."""

import signal
from typing import Any

from transformers import TrainerCallback

from tunekit.errors import Interrupted

SIGNALS = {signal.SIGINT: ("Ctrl-C", 130), signal.SIGTERM: ("SIGTERM", 143)}


class StopOnSignal(TrainerCallback):
    def __init__(self) -> None:
        self.received: Any = None
        self.previous: dict = {}

    def _handle(self, number, frame) -> None:
        if self.received is not None and number == signal.SIGINT:  # asked twice: stop now
            raise KeyboardInterrupt
        self.received = number

    def on_train_begin(self, args, state, control, **kwargs) -> None:
        if args.world_size > 1:
            return
        try:
            self.previous = {number: signal.signal(number, self._handle) for number in SIGNALS}
        except ValueError:  # not the main thread (a server or a notebook's worker): the default handling stands
            self.previous = {}

    def on_step_end(self, args, state, control, **kwargs) -> None:
        if self.received is not None:
            control.should_save = True
            control.should_training_stop = True

    def on_train_end(self, args, state, control, **kwargs) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler)
        self.previous = {}
        if self.received is not None:
            name, code = SIGNALS[self.received]
            raise Interrupted(f"{name}: training stopped at step {state.global_step}, saved as "
                              f"{args.output_dir}/checkpoint-{state.global_step}; the same command continues from it",
                              code)
