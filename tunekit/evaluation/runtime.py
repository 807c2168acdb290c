"""--backend / --quantize in a run: the evaluations run on the folder's ONNX graph, and an int8 graph is made
once, checked on the dev split against the exact graph, and kept only when it loses at most --quantize_tolerance
points of the main metric (the check written to onnx/quantization.json either way)."""

import contextlib
import json
import logging
import os
import time
from typing import TYPE_CHECKING, Iterator

from tunekit.backends import BACKENDS
from tunekit.errors import UserError
from tunekit.files import atomic_write
from tunekit.folder import OutputFolder
from tunekit.inference.backend import quantization_record, runtime_model
from tunekit.inference.onnx_graphs import (
    QUANTIZATION_FILE,
    check_runnable,
    graphs_folder,
    int8_graph_path,
    optimized_graph,
    quantize_int8,
)
from tunekit.inference.onnx_model import OnnxRuntimeModel

if TYPE_CHECKING:
    import torch

logger = logging.getLogger("tunekit")
METHOD = "dynamic int8 (ONNX Runtime quantize_dynamic: int8 weights per output channel, activations per batch)"
FP32_PRODUCTS = {"first": "the classifier and the first layer's feed-forward output",
                 "all": "the classifier and every feed-forward output"}


def saved_folder(settings) -> str:
    """The folder whose model is evaluated: the output folder after training, else the model path given."""
    if settings.training.do_train:
        return settings.output_dir
    folder = settings.model.model_name_or_path
    if not os.path.isfile(OutputFolder(folder).model_config):
        raise UserError(f"--backend onnxruntime runs a saved model folder; {folder} is not one (train it first, or "
                        "give --model_name_or_path a local folder)")
    return folder


@contextlib.contextmanager
def evaluated_with(trainer, model) -> 'Iterator[torch.nn.Module]':
    """Trainer's evaluation loop runs `model` inside the block; the PyTorch model is back afterwards (the export
    and the model card read it)."""
    original = trainer.model, trainer.model_wrapped
    collator = trainer.data_collator
    rounding = getattr(collator, "pad_to_multiple_of", None)
    trainer.model = trainer.model_wrapped = model
    if isinstance(model, OnnxRuntimeModel) and rounding:
        # batch lengths are rounded for PyTorch's bf16 kernels; ONNX Runtime takes any length, and the rounding
        # cost it 18% more cells on CoNLL-2003 test (10% of its prediction time)
        collator.pad_to_multiple_of = None
    try:
        yield model
    finally:
        trainer.model, trainer.model_wrapped = original
        if rounding:
            collator.pad_to_multiple_of = rounding


def dev_score(trainer, model, metric: str) -> float:
    """The main dev metric, in points, of `model` on the trainer's (length-sorted) dev split."""
    with evaluated_with(trainer, model):
        metrics = trainer.predict(trainer.eval_dataset, metric_key_prefix="eval").metrics
    key = metric if metric.startswith("eval_") else f"eval_{metric}"
    return 100 * metrics[key]


def make_checked_int8(trainer, model, tokenizer, folder: str, metric: str, tolerance: float) -> dict:
    """Quantize the exact graph and score it on dev against the exact graph; if it loses more than the tolerance,
    quantize again with every layer's feed-forward output in fp32 (slower, closer). The first within tolerance is kept;
    the record of the check (onnx/quantization.json) lists every attempt."""
    if trainer.eval_dataset is None:
        raise UserError("--quantize int8 needs dev data to check the quantized graph against the exact one")
    exact_path = optimized_graph(folder, model, tokenizer)
    path = int8_graph_path(folder, model)
    started = time.perf_counter()
    exact = dev_score(trainer, OnnxRuntimeModel(model, exact_path), metric)
    attempts, kept = [], False
    for feed_forward_outputs in FP32_PRODUCTS:
        quantize_int8(exact_path, path, model.config, feed_forward_outputs)
        int8 = dev_score(trainer, OnnxRuntimeModel(model, path), metric)
        kept = exact - int8 <= tolerance
        attempts.append({"fp32_products": FP32_PRODUCTS[feed_forward_outputs], "int8": round(int8, 4),
                         "difference": round(int8 - exact, 4), "kept": kept})
        if kept:
            break
    record = {
        "method": METHOD, "made_from": os.path.basename(exact_path), "graph": os.path.basename(path),
        "metric": metric, "exact": round(exact, 4), "int8": attempts[-1]["int8"],
        "difference": attempts[-1]["difference"], "fp32_products": attempts[-1]["fp32_products"],
        "tolerance": tolerance, "kept": kept, "attempts": attempts, "dev_examples": len(trainer.eval_dataset),
        "seconds": round(time.perf_counter() - started, 1),
    }
    atomic_write(os.path.join(OutputFolder(folder).onnx, QUANTIZATION_FILE), json.dumps(record, indent=2) + "\n")
    if kept:
        logger.info("int8 graph kept (%s in fp32): dev %s %.2f against %.2f exact (tolerance %s)",
                    record["fp32_products"], metric, record["int8"], exact, tolerance)
    else:
        os.remove(path)
        logger.warning("int8 graph not kept: dev %s %.2f against %.2f exact loses more than %s; evaluating with the "
                       "exact graph (the check is in %s)", metric, record["int8"], exact, tolerance,
                       os.path.join(OutputFolder(folder).onnx, QUANTIZATION_FILE))
    return record


def evaluation_model(trainer, settings, tokenizer, metric: str) -> 'torch.nn.Module':
    """The model the run's evaluations use: trainer.model for --backend torch, else its ONNX Runtime graph."""
    run = settings.run
    if BACKENDS[run.backend].in_process:
        return trainer.model
    model = trainer.model
    check_runnable(model)
    folder = saved_folder(settings)
    graphs_folder(folder)  # graphs and checks of earlier weights are removed first
    quantize = run.quantize
    if quantize == "int8":
        record = quantization_record(folder)  # made once per weights (graphs_folder clears it after retraining)
        if record is None or (record.get("kept") and not os.path.isfile(int8_graph_path(folder, model))):
            record = make_checked_int8(trainer, model, tokenizer, folder, metric, run.quantize_tolerance)
        elif not record.get("kept"):
            logger.warning("The int8 graph of %s did not pass its dev check (%s): evaluating with the exact graph",
                           folder, os.path.join(OutputFolder(folder).onnx, QUANTIZATION_FILE))
        if not record["kept"]:
            quantize = "none"
    chosen = runtime_model(model, tokenizer, folder, run.backend, quantize)
    assert isinstance(chosen, OnnxRuntimeModel)
    logger.info("Evaluating with ONNX Runtime: %s", os.path.join(OutputFolder(folder).onnx, chosen.file_name))
    return chosen
