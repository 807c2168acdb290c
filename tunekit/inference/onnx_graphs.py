"""The ONNX graphs a folder is run with by ONNX Runtime, made on first use and kept in <folder>/onnx/.

- model.onnx: the exported graph (--export_onnx writes the same file; for a CRF tagger, emissions.onnx holds
  its emissions, the Viterbi decoding stays in PyTorch);
- model_optimized.onnx: that graph with ONNX Runtime's transformer fusions (residual and layer norm, bias and GELU)
  and our attention fusion (attention_fusion.py), the exact (fp32) graph the onnxruntime backend runs;
- model_int8.onnx: dynamic int8 quantization of the optimized graph, kept only when it passes the dev check
  (evaluation/runtime.py, its result in quantization.json).

source.json records the fingerprint of the weights the graphs were made from: a folder trained again gets
new graphs instead of stale ones.
"""

import copy
import functools
import hashlib
import json
import logging
import os

import numpy as np

from tunekit.folder import OutputFolder
from tunekit.errors import UserError
from tunekit.files import atomic_write, replaced_atomically
from tunekit.modeling.taggers.modeling_crf import CrfForTokenClassification

logger = logging.getLogger("tunekit")
SOURCE_FILE = "source.json"
QUANTIZATION_FILE = "quantization.json"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# model types whose graphs ONNX Runtime's transformer optimizer fuses (its "bert" rules cover these encoders)
FUSED_MODEL_TYPES = ("bert", "roberta", "xlm-roberta", "camembert", "electra", "distilbert")


def graph_stem(model) -> str:
    """The file name stem of a model's graph: a CRF's graph gives emissions, not the final labels."""
    return "emissions" if isinstance(model, CrfForTokenClassification) else "model"


def check_runnable(model) -> None:
    """One-line refusal for what no ONNX graph of ours holds."""
    config = model.config
    if getattr(config, "tunekit_bilstm", None):
        raise UserError("--backend onnxruntime does not cover the BiLSTM taggers (--use_bilstm, --no_encoder): its "
                        "reading stops at each sentence's length, which the ONNX exporter cannot trace; use --backend torch")
    pooling = getattr(config, "tunekit_pooling", None) or {}
    if pooling.get("chunks") == "attention":
        raise UserError("--backend onnxruntime does not cover --chunk_pooling attention (a text's chunks are cut "
                        "inside the model); use --backend torch")


def weights_fingerprint(folder: str) -> str:
    """sha256 of the folder's weights file."""
    for name in WEIGHT_FILES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            status = os.stat(path)
            return file_sha256(os.path.abspath(path), status.st_size, status.st_mtime_ns)
    raise UserError(f"{folder}: no model weights ({' or '.join(WEIGHT_FILES)}) to run")


@functools.lru_cache(maxsize=8)
def file_sha256(path: str, size: int, modified_ns: int) -> str:
    """Hashed once per version of the file (size and modification time in the key): a run asks several times."""
    del size, modified_ns
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def graphs_folder(folder: str) -> str:
    """<folder>/onnx, emptied of graphs made from other weights than the folder's."""
    directory = OutputFolder(folder).onnx
    source_path = os.path.join(directory, SOURCE_FILE)
    fingerprint = weights_fingerprint(folder)
    recorded = None
    if os.path.isfile(source_path):
        with open(source_path, encoding="utf-8") as stream:
            recorded = json.load(stream).get("weights_sha256")
    if recorded != fingerprint:
        if os.path.isdir(directory):
            for name in os.listdir(directory):
                if name.endswith(".onnx") or name in (QUANTIZATION_FILE, SOURCE_FILE) or name.endswith(".onnx.data"):
                    os.remove(os.path.join(directory, name))
        os.makedirs(directory, exist_ok=True)
        atomic_write(source_path, json.dumps({"weights_sha256": fingerprint}, indent=2) + "\n")
    return directory


def exported_graph(folder: str, model, tokenizer) -> str:
    """onnx/model.onnx (emissions.onnx for a CRF), exported and checked against PyTorch when missing."""
    from tunekit.inference.onnx_export import export_onnx

    check_runnable(model)
    path = os.path.join(graphs_folder(folder), graph_stem(model) + ".onnx")
    if not os.path.isfile(path):
        logger.info("Exporting %s to ONNX (once: it is kept in %s)", folder, os.path.dirname(path))
        export_onnx(model, tokenizer, folder, path)
    return path


def optimized_graph(folder: str, model, tokenizer) -> str:
    """The exact graph the onnxruntime backend runs: the export with the transformer fusions where they apply."""
    exported = exported_graph(folder, model, tokenizer)
    path = exported[: -len(".onnx")] + "_optimized.onnx"
    if os.path.isfile(path):
        return path
    config = model.config
    if config.model_type not in FUSED_MODEL_TYPES:
        return exported  # ONNX Runtime's own graph optimisations still run when the session starts
    import onnx  # here, not at the top: every run imports this module, few make graphs (onnx costs 0.6 s)
    from onnxruntime.transformers.optimizer import optimize_model

    from tunekit.inference.attention_fusion import fuse_attention

    optimized = optimize_model(
        exported, "bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size, opt_level=0,
    )
    fusions = {k: v for k, v in optimized.get_fused_operator_statistics().items() if v}
    unfused = copy.deepcopy(optimized.model)
    fusions["Attention"] = fuse_attention(optimized.model, config.num_attention_heads)
    logger.info("ONNX Runtime fusions: %s", fusions)
    with replaced_atomically(path) as temporary:
        onnx.save(optimized.model, temporary)
        if fusions["Attention"] and not same_outputs(exported, temporary, tokenizer):
            logger.warning("The fused attention does not reproduce the exported graph on a sample: kept unfused")
            onnx.save(unfused, temporary)
    return path


def same_outputs(reference: str, candidate: str, tokenizer) -> bool:
    """Whether two graphs give the same logits (atol 1e-4) and labels on padded sample sentences."""
    from tunekit.inference.onnx_model import session_for
    from tunekit.inference.onnx_export import SAMPLE_TEXTS, same_predictions

    sample = tokenizer(SAMPLE_TEXTS + ["One more sentence , longer than the others , with padding around it ."],
                       padding=True, return_tensors="np")
    outputs = []
    for path in (reference, candidate):
        try:
            session = session_for(path)
            feed = {i.name: sample[i.name].astype(np.int64) for i in session.get_inputs()}
            outputs.append(session.run(["logits"], feed)[0])
        except Exception as error:  # noqa: BLE001 - a graph ONNX Runtime cannot run is simply not the same
            logger.info("%s does not run: %s", path, error)
            return False
    expected, actual = outputs
    if expected.ndim == 3:  # token logits: the padding's are not compared
        real = sample["attention_mask"].astype(bool)
        expected, actual = expected[real], actual[real]
    return same_predictions(actual, expected)


def int8_graph_path(folder: str, model) -> str:
    return os.path.join(OutputFolder(folder).onnx, graph_stem(model) + "_int8.onnx")


def weight_matmuls(path: str) -> list:
    """(node name, weight shape) of every MatMul of the graph whose second input is a weight."""
    import onnx

    graph = onnx.load(path, load_external_data=False).graph
    shapes = {initializer.name: list(initializer.dims) for initializer in graph.initializer}
    return [(node.name, shapes[node.input[1]]) for node in graph.node
            if node.op_type == "MatMul" and len(node.input) == 2 and node.input[1] in shapes]


def kept_in_fp32(path: str, config, feed_forward_outputs: str = "first") -> list:
    """MatMuls left in fp32: the classifier (one small product, and the logits decide) and the feed-forward output
    of the first layer ("first") or of every layer ("all"). The feed-forward output's input, the GELU output, has the
    long tail that per-batch activation scales round worst, most in the first layer: on CoNLL-2003 (MiniLM) all in
    int8 lost 0.75 test F1, the first layer's kept in fp32 0.16, at the same speed (docs/prediction-and-serving.md)."""
    labels = len(config.id2label or {}) or config.num_labels
    products = weight_matmuls(path)
    feed_forward = [name for name, (rows, _) in products if rows == getattr(config, "intermediate_size", -1)]
    chosen = [name for name, (_, columns) in products if columns == labels]
    return chosen + (feed_forward[:1] if feed_forward_outputs == "first" else feed_forward)


def quantize_int8(optimized: str, path: str, config, feed_forward_outputs: str = "first") -> str:
    """Dynamic int8 quantization of the optimized graph: int8 weights per output channel, activations quantized per
    batch as they come (no calibration data), a few products kept in fp32 (kept_in_fp32)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # its advice to pre-process the graph (shape inference) is about image models
    try:
        with replaced_atomically(path) as temporary:
            quantize_dynamic(optimized, temporary, weight_type=QuantType.QInt8, per_channel=True,
                             nodes_to_exclude=kept_in_fp32(optimized, config, feed_forward_outputs))
    finally:
        root.setLevel(level)
    return path
