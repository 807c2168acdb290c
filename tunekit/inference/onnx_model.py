"""An ONNX graph of a saved folder run by ONNX Runtime, called like the PyTorch model it replaces.

`OnnxRuntimeModel(**batch)` returns an output with `.logits` (and `.loss` for the CRF when labels are given), so
Trainer's evaluation loop, the task losses and the raw-text predictors run it unchanged. The graph gives the
encoder's logits; what the graph cannot hold stays in PyTorch on its output: the CRF's Viterbi decoding.
"""

import os
from typing import TYPE_CHECKING

import numpy as np
import torch
from transformers.modeling_outputs import SequenceClassifierOutput

from tunekit.encoding import IGNORE_INDEX
from tunekit.modeling.pooling.modeling_pooling import classification_loss
from tunekit.modeling.taggers.modeling_crf import CrfForTokenClassification

if TYPE_CHECKING:
    import onnxruntime



def session_for(path: str, threads: int | None = None) -> 'onnxruntime.InferenceSession':
    """A CPU session with every graph optimisation, on as many threads as this process may use."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or torch.get_num_threads()  # OMP_NUM_THREADS and launchers' limits hold
    # its threads wait for work without spinning: spinning threads take the cores from PyTorch's between batches
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # its warnings about unused initialisers are not the user's concern
    return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])


class OnnxRuntimeModel(torch.nn.Module):
    """model: the PyTorch model of the folder (its config and, for the CRF, its transitions are used);
    path: the ONNX file of its encoder and classifier."""

    main_input_name = "input_ids"

    def __init__(self, model: torch.nn.Module, path: str, threads: int | None = None):
        super().__init__()
        self.config = model.config
        self.path = path
        self.session = session_for(path, threads)
        self.input_names = [graph_input.name for graph_input in self.session.get_inputs()]
        # the Viterbi decoding runs here, on the graph's emissions
        self.crf = model.crf if isinstance(model, CrfForTokenClassification) else None
        self.file_name = os.path.basename(path)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None,
                **unused) -> SequenceClassifierOutput:
        given = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
        if given["attention_mask"] is None:
            given["attention_mask"] = torch.ones_like(input_ids)
        if given["token_type_ids"] is None and "token_type_ids" in self.input_names:
            given["token_type_ids"] = torch.zeros_like(input_ids)
        feed = {name: np.ascontiguousarray(given[name].cpu().numpy(), dtype=np.int64) for name in self.input_names}
        logits = torch.from_numpy(self.session.run(["logits"], feed)[0]).float()
        loss = None if labels is None or self.crf is not None else standard_loss(logits, labels, self.config)
        if self.crf is not None:
            mask = given["attention_mask"].bool()
            if labels is not None:
                loss = self.crf.negative_log_likelihood(logits, mask, labels).mean()
            logits = self.crf.decoded_logits(logits, mask)
        return SequenceClassifierOutput(loss=loss, logits=logits)


def standard_loss(logits: torch.Tensor, labels: torch.Tensor, config) -> torch.Tensor:
    """The loss the models compute from their logits (Trainer reports it as the evaluation loss): for a text, the
    one loss of its problem type (modeling_pooling.classification_loss); for tokens, the cross-entropy over the
    pieces with a label."""
    if logits.dim() == 3:  # token classification; IGNORE_INDEX marks the pieces without a label
        return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                                 ignore_index=IGNORE_INDEX)
    return classification_loss(logits, labels, config)
