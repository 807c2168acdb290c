"""The backends (backends.py): the PyTorch model itself, or its ONNX graph in ONNX Runtime. A backend object owns
its export, its int8 check and how it stands in for the PyTorch model; evaluation and prediction ask it, and
nothing else knows which backend runs."""

import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Callable, Protocol

import torch

from tunekit.backends import backend_for, backend_named
from tunekit.errors import UserError
from tunekit.files import atomic_write
from tunekit.folder import OutputFolder
from tunekit.inference.onnx_graphs import (
    QUANTIZATION_FILE,
    check_runnable,
    graphs_folder,
    int8_graph_path,
    optimized_graph,
    quantize_int8,
)
from tunekit.inference.onnx_model import OnnxRuntimeModel

logger = logging.getLogger("tunekit")
METHOD = "dynamic int8 (ONNX Runtime quantize_dynamic: int8 weights per output channel, activations per batch)"
FP32_PRODUCTS = {"first": "the classifier and the first layer's feed-forward output",
                 "all": "the classifier and every feed-forward output"}


@dataclass(frozen=True)
class DevCheck:
    """How an evaluation scores a stand-in on dev: its main metric in points, over `examples` dev examples."""

    metric: str
    score: Callable[[torch.nn.Module], float]
    examples: int
    tolerance: float


class Backend(Protocol):
    """What runs a saved folder's model. needs_folder: it runs from the saved folder (an export), not the model in
    memory; pads_freely: it takes any batch length, so evaluation need not round lengths for PyTorch's kernels."""

    needs_folder: bool
    pads_freely: bool

    def stand_in(self, model: torch.nn.Module, tokenizer, folder: str, quantize: str) -> torch.nn.Module:
        """What runs in the model's place for prediction, called like it: its forward names the inputs it takes
        (Trainer's evaluation keeps only those columns) and returns an output with .logits (.loss given labels)."""
        ...

    def evaluation_model(self, model: torch.nn.Module, tokenizer, folder: str, quantize: str,
                         dev: "DevCheck | None") -> tuple:
        """(what the run's evaluations use, a line saying what it is or None), making and checking what it needs
        (an export, an int8 graph scored against the exact one on dev)."""
        ...


class PytorchBackend:
    """The torch backend: the model itself."""

    needs_folder = False
    pads_freely = False

    def stand_in(self, model: torch.nn.Module, tokenizer, folder: str, quantize: str) -> torch.nn.Module:
        return model

    def evaluation_model(self, model: torch.nn.Module, tokenizer, folder: str, quantize: str,
                         dev: "DevCheck | None") -> tuple:
        return model, None


def quantization_record(folder: str) -> dict | None:
    """What the last int8 check of the folder found (onnx/quantization.json), or None."""
    path = os.path.join(OutputFolder(folder).onnx, QUANTIZATION_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


def checked_int8_path(folder: str, model) -> str:
    """The folder's int8 graph that passed its dev check, or a one-line error saying how to make one."""
    path = int8_graph_path(folder, model)
    record = quantization_record(folder)
    if os.path.isfile(path) and record and record.get("kept"):
        return path
    why = ""
    if record and not record.get("kept"):
        why = (f" (the last one was not kept: dev {record['metric']} {record['int8']:.2f} against {record['exact']:.2f} "
               f"exact, more than {record['tolerance']} lower)")
    raise UserError(f"{folder}: no checked int8 graph{why}; make one with: sh scripts/eval.sh {folder} --quantize int8")


def make_checked_int8(model, tokenizer, folder: str, dev: DevCheck) -> dict:
    """Quantize the exact graph and score it on dev against the exact graph; if it loses more than the tolerance,
    quantize again with every layer's feed-forward output in fp32 (slower, closer). The first within tolerance is
    kept; the record of the check (onnx/quantization.json) lists every attempt."""
    exact_path = optimized_graph(folder, model, tokenizer)
    path = int8_graph_path(folder, model)
    started = time.perf_counter()
    exact = dev.score(OnnxRuntimeModel(model, exact_path))
    attempts, kept = [], False
    for feed_forward_outputs in FP32_PRODUCTS:
        quantize_int8(exact_path, path, model.config, feed_forward_outputs)
        int8 = dev.score(OnnxRuntimeModel(model, path))
        kept = exact - int8 <= dev.tolerance
        attempts.append({"fp32_products": FP32_PRODUCTS[feed_forward_outputs], "int8": round(int8, 4),
                         "difference": round(int8 - exact, 4), "kept": kept})
        if kept:
            break
    record = {
        "method": METHOD, "made_from": os.path.basename(exact_path), "graph": os.path.basename(path),
        "metric": dev.metric, "exact": round(exact, 4), "int8": attempts[-1]["int8"],
        "difference": attempts[-1]["difference"], "fp32_products": attempts[-1]["fp32_products"],
        "tolerance": dev.tolerance, "kept": kept, "attempts": attempts, "dev_examples": dev.examples,
        "seconds": round(time.perf_counter() - started, 1),
    }
    atomic_write(os.path.join(OutputFolder(folder).onnx, QUANTIZATION_FILE), json.dumps(record, indent=2) + "\n")
    if kept:
        logger.info("int8 graph kept (%s in fp32): dev %s %.2f against %.2f exact (tolerance %s)",
                    record["fp32_products"], dev.metric, record["int8"], exact, dev.tolerance)
    else:
        os.remove(path)
        logger.warning("int8 graph not kept: dev %s %.2f against %.2f exact loses more than %s; evaluating with the "
                       "exact graph (the check is in %s)", dev.metric, record["int8"], exact, dev.tolerance,
                       os.path.join(OutputFolder(folder).onnx, QUANTIZATION_FILE))
    return record


class OnnxRuntimeBackend:
    """The onnxruntime backend: the folder's exact ONNX graph (exported on first use), or its int8 graph once it
    has passed its dev check (made once per weights, kept only when it loses at most --quantize_tolerance points)."""

    needs_folder = True
    pads_freely = True  # the rounding of batch lengths cost ONNX Runtime 18% more cells on CoNLL-2003 test

    def stand_in(self, model: torch.nn.Module, tokenizer, folder: str, quantize: str) -> OnnxRuntimeModel:
        if quantize == "int8":
            graphs_folder(folder)  # a check made on earlier weights does not count
            return OnnxRuntimeModel(model, checked_int8_path(folder, model))
        return OnnxRuntimeModel(model, optimized_graph(folder, model, tokenizer))

    def evaluation_model(self, model: torch.nn.Module, tokenizer, folder: str, quantize: str,
                         dev: "DevCheck | None") -> tuple:
        check_runnable(model)
        graphs_folder(folder)  # graphs and checks of earlier weights are removed first
        if quantize == "int8":
            record = quantization_record(folder)  # made once per weights (graphs_folder clears it after retraining)
            if record is None or (record.get("kept") and not os.path.isfile(int8_graph_path(folder, model))):
                if dev is None:
                    raise UserError("--quantize int8 needs dev data to check the quantized graph against the exact one")
                record = make_checked_int8(model, tokenizer, folder, dev)
            elif not record.get("kept"):
                logger.warning("The int8 graph of %s did not pass its dev check (%s): evaluating with the exact graph",
                               folder, os.path.join(OutputFolder(folder).onnx, QUANTIZATION_FILE))
            if not record["kept"]:
                quantize = "none"
        chosen = self.stand_in(model, tokenizer, folder, quantize)
        return chosen, f"Evaluating with ONNX Runtime: {os.path.join(OutputFolder(folder).onnx, chosen.file_name)}"


PYTORCH = PytorchBackend()
ONNX_RUNTIME = OnnxRuntimeBackend()


def settled_backend(backend: str, quantize: str = "none") -> str:
    """The backend that runs `backend` with `quantize`, or a one-line error."""
    try:
        return backend_for(backend, quantize)
    except ValueError as error:
        raise UserError(str(error)) from None


def runtime_model(model: torch.nn.Module, tokenizer, folder: str, backend: str, quantize: str = "none") -> torch.nn.Module:
    """What runs the folder's model for prediction with the chosen backend and quantization."""
    named: Backend = backend_named(settled_backend(backend, quantize))
    return named.stand_in(model, tokenizer, folder, quantize)
