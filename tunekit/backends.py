"""The backends that run a saved model, named once: name -> how to build it from a folder (imported only when
used, so the argument parsers can list them without torch). Every stage may use it.

A backend's builder is "module:function" taking (model, tokenizer, folder, quantize) and returning what runs in
the model's place (called like it). --quantize int8 is an ONNX graph, so it implies the onnxruntime backend."""

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Backend:
    builder: str  # "module:function"
    quantizes: bool  # whether --quantize int8 runs on it
    in_process: bool  # the PyTorch model itself (nothing to build, export or check)


BACKENDS = {
    "torch": Backend("tunekit.inference.backend:pytorch_model", quantizes=False, in_process=True),  # the model itself
    # the folder's ONNX graph in ONNX Runtime (exported on first use into <folder>/onnx/)
    "onnxruntime": Backend("tunekit.inference.backend:onnx_runtime_model", quantizes=True, in_process=False),
}
QUANTIZATIONS = ("none", "int8")


def backend_for(name: str, quantize: str = "none") -> str:
    """The backend that runs `name` with `quantize` (int8 implies the one that quantizes), or a ValueError."""
    if name not in BACKENDS:
        raise ValueError(f"--backend must be one of {', '.join(BACKENDS)}, not {name}")
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"--quantize must be one of {', '.join(QUANTIZATIONS)}, not {quantize}")
    if quantize != "none" and not BACKENDS[name].quantizes:
        return next(other for other, backend in BACKENDS.items() if backend.quantizes)
    return name


def build(name: str, model: Any, tokenizer: Any, folder: str, quantize: str = "none") -> Any:
    """What runs in the model's place with backend `name` (after backend_for)."""
    module, _, function = BACKENDS[name].builder.partition(":")
    return getattr(importlib.import_module(module), function)(model, tokenizer, folder, quantize)
