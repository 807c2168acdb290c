"""--backend / --quantize in a run: the evaluations run on what the backend stands in with (the folder's ONNX
graph, its checked int8 graph; inference/backend.py), scored on dev when the backend checks something."""

import contextlib
import logging
import os
from typing import TYPE_CHECKING, Iterator

from tunekit.backends import backend_named
from tunekit.errors import UserError
from tunekit.folder import OutputFolder
from tunekit.inference.backend import Backend, DevCheck

if TYPE_CHECKING:
    import torch

logger = logging.getLogger("tunekit")


def saved_folder(settings) -> str:
    """The folder whose model is evaluated: the output folder after training, else the model path given."""
    if settings.training.do_train:
        return settings.output_dir
    folder = settings.model.model_name_or_path
    if not os.path.isfile(OutputFolder(folder).model_config):
        raise UserError(f"--backend {settings.run.backend} runs a saved model folder; {folder} is not one (train it "
                        "first, or give --model_name_or_path a local folder)")
    return folder


@contextlib.contextmanager
def evaluated_with(trainer, model, pads_freely: bool = False) -> 'Iterator[torch.nn.Module]':
    """Trainer's evaluation loop runs `model` inside the block; the PyTorch model is back afterwards (the export
    and the model card read it). pads_freely: a backend that takes any batch length (Backend.pads_freely) gets
    batches without the rounding PyTorch's bf16 kernels want."""
    original = trainer.model, trainer.model_wrapped
    collator = trainer.data_collator
    rounding = getattr(collator, "pad_to_multiple_of", None)
    trainer.model = trainer.model_wrapped = model
    if pads_freely and rounding:
        collator.pad_to_multiple_of = None
    try:
        yield model
    finally:
        trainer.model, trainer.model_wrapped = original
        if rounding:
            collator.pad_to_multiple_of = rounding


def dev_score(trainer, model, metric: str, pads_freely: bool) -> float:
    """The main dev metric, in points, of `model` on the trainer's (length-sorted) dev split."""
    with evaluated_with(trainer, model, pads_freely):
        metrics = trainer.predict(trainer.eval_dataset, metric_key_prefix="eval").metrics
    key = metric if metric.startswith("eval_") else f"eval_{metric}"
    return 100 * metrics[key]


@contextlib.contextmanager
def evaluation_backend(trainer, settings, tokenizer, metric: str) -> 'Iterator[torch.nn.Module]':
    """The run's evaluations inside the block run on what its backend stands in with (evaluated_with)."""
    backend: Backend = backend_named(settings.run.backend)
    with evaluated_with(trainer, evaluation_model(trainer, settings, tokenizer, metric, backend),
                        backend.pads_freely) as model:
        yield model


def evaluation_model(trainer, settings, tokenizer, metric: str, backend: Backend) -> 'torch.nn.Module':
    """The model the run's evaluations use: what the backend stands in with (trainer.model for torch)."""
    folder = saved_folder(settings) if backend.needs_folder else settings.output_dir
    dev = None
    if trainer.eval_dataset is not None:
        dev = DevCheck(metric, lambda model: dev_score(trainer, model, metric, backend.pads_freely),
                       len(trainer.eval_dataset), settings.run.quantize_tolerance)
    chosen, description = backend.evaluation_model(trainer.model, tokenizer, folder, settings.run.quantize, dev)
    if description:
        logger.info("%s", description)
    return chosen
