"""--export_onnx: write onnx/model.onnx with dynamic batch and sequence axes, checked against PyTorch."""

import contextlib
import logging
import os
import warnings
from typing import Iterator

import numpy as np
import torch

from tunekit.errors import UserError
from tunekit.files import replaced_atomically
from tunekit.folder import OutputFolder
from tunekit.modeling.taggers.modeling_crf import CrfForTokenClassification

SAMPLE_TEXTS = ["Anna Brandt visited Oslo on Tuesday .", "A short one ."]


def same_predictions(actual: np.ndarray, expected: np.ndarray) -> bool:
    """The same logits (within 1e-4) and the same labels: what a graph must give to stand for the model."""
    return bool(np.allclose(actual, expected, atol=1e-4) and (actual.argmax(-1) == expected.argmax(-1)).all())


@contextlib.contextmanager
def quiet_exporter() -> 'Iterator[None]':
    """The exporter's progress lines and its warnings about operators of other libraries stay out of the run's log."""
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        exporter_log.setLevel(level)


class LogitsOnly(torch.nn.Module):
    """The model as a plain function of its inputs that returns only the logits."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids=None) -> 'torch.Tensor':
        extra = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        return self.model(input_ids=input_ids, attention_mask=attention_mask, **extra).logits


def export_onnx(model, tokenizer, output_dir: str, path: str | None = None) -> str:
    """Export the model saved in output_dir (to onnx/model.onnx unless path is given), then run the ONNX file with
    onnxruntime on a sample and compare with PyTorch. The saved copy is reloaded: the trained object may still
    carry the mixed-precision wrapper of training, which would put bf16 matmuls into the graph. Of a CRF tagger
    the graph holds the emissions (its tagger); the Viterbi decoding is not a graph."""
    try:
        import onnxruntime
    except ImportError:
        raise UserError("--export_onnx needs onnx, onnxscript and onnxruntime: pip install onnx onnxscript onnxruntime") from None
    path = path or os.path.join(OutputFolder(output_dir).onnx, "model.onnx")
    sample = tokenizer(SAMPLE_TEXTS, padding=True, return_tensors="pt")
    names = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in sample]
    model = type(model).from_pretrained(output_dir).float().eval()
    wrapped = LogitsOnly(model.tagger if isinstance(model, CrfForTokenClassification) else model).eval()
    # The TorchDynamo exporter: the older TorchScript one bakes transformers 5's mask logic in as constants.
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    with torch.no_grad(), replaced_atomically(path) as temporary, quiet_exporter():
        program = torch.onnx.export(
            wrapped,
            tuple(sample[name] for name in names),
            input_names=names,
            output_names=["logits"],
            dynamic_shapes={name: {0: batch, 1: sequence} for name in names},
            dynamo=True,
            verbose=False,
        )
        if program is None:
            raise RuntimeError("torch.onnx.export returned no program")
        program.save(temporary)
        expected = wrapped(*(sample[name] for name in names)).numpy()
        session = onnxruntime.InferenceSession(temporary, providers=["CPUExecutionProvider"])
        actual = session.run(["logits"], {name: sample[name].numpy() for name in names})[0]
        if not same_predictions(actual, expected):
            raise RuntimeError("the ONNX export does not reproduce the PyTorch predictions")  # nothing is kept
    return path
