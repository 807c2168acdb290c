"""The builders of the backends (backends.py): the PyTorch model itself, or its ONNX graph in ONNX Runtime."""

import json
import os

import torch

from tunekit.backends import backend_for, build
from tunekit.errors import UserError
from tunekit.folder import OutputFolder
from tunekit.inference.onnx_graphs import (
    QUANTIZATION_FILE,
    graphs_folder,
    int8_graph_path,
    optimized_graph,
)
from tunekit.inference.onnx_model import OnnxRuntimeModel


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


def pytorch_model(model: torch.nn.Module, tokenizer, folder: str, quantize: str = "none") -> torch.nn.Module:
    """The torch backend: the model itself."""
    return model


def onnx_runtime_model(model: torch.nn.Module, tokenizer, folder: str, quantize: str = "none") -> OnnxRuntimeModel:
    """The onnxruntime backend: an OnnxRuntimeModel of the folder's exact graph, or of its checked int8 graph."""
    if quantize == "int8":
        graphs_folder(folder)  # a check made on earlier weights does not count
        return OnnxRuntimeModel(model, checked_int8_path(folder, model))
    return OnnxRuntimeModel(model, optimized_graph(folder, model, tokenizer))


def runtime_model(model: torch.nn.Module, tokenizer, folder: str, backend: str, quantize: str = "none") -> torch.nn.Module:
    """What runs the folder's model with the chosen backend and quantization (backends.BACKENDS)."""
    try:
        name = backend_for(backend, quantize)
    except ValueError as error:
        raise UserError(str(error)) from None
    return build(name, model, tokenizer, folder, quantize)
