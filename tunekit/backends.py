"""The backends that run a saved model, named once: name -> where its Backend object lives ("module:attribute",
imported only when used, so the argument parsers can list them without torch) and whether --quantize int8 runs
on it. Every stage may use it; a plug-in adds one with `register`.

A Backend object (inference/backend.py describes the interface) owns its export, its int8 check and how it stands
in for the PyTorch model in evaluation and prediction. --quantize int8 implies the backend that quantizes."""

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BackendEntry:
    where: str  # "module:attribute" of the Backend object
    quantizes: bool  # whether --quantize int8 runs on it


BACKENDS = {
    "torch": BackendEntry("tunekit.inference.backend:PYTORCH", quantizes=False),  # the model itself
    # the folder's ONNX graph in ONNX Runtime (exported on first use into <folder>/onnx/)
    "onnxruntime": BackendEntry("tunekit.inference.backend:ONNX_RUNTIME", quantizes=True),
}
QUANTIZATIONS = ("none", "int8")


def register(name: str, where: str, quantizes: bool = False) -> None:
    """Make `--backend name` run the Backend object at where ("module:attribute")."""
    BACKENDS[name] = BackendEntry(where, quantizes)


def backend_for(name: str, quantize: str = "none") -> str:
    """The backend that runs `name` with `quantize` (int8 implies the one that quantizes), or a ValueError."""
    if name not in BACKENDS:
        raise ValueError(f"--backend must be one of {', '.join(BACKENDS)}, not {name}")
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"--quantize must be one of {', '.join(QUANTIZATIONS)}, not {quantize}")
    if quantize != "none" and not BACKENDS[name].quantizes:
        return next(other for other, backend in BACKENDS.items() if backend.quantizes)
    return name


def backend_named(name: str) -> Any:
    """The Backend object of `name` (after backend_for)."""
    module, _, attribute = BACKENDS[name].where.partition(":")
    return getattr(importlib.import_module(module), attribute)
