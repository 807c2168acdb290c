"""Self-attention of an exported encoder graph fused into ONNX Runtime's Attention operator.

ONNX Runtime's transformer optimizer fuses the attention of graphs from the older TorchScript exporter, not of
those of the TorchDynamo exporter (which is the one that exports transformers 5 correctly): its attention reaches
ONNX Runtime as about thirty operators per layer (reshapes, transposes, the mask as a Where, a NaN guard), which
cost a quarter of an int8 forward pass on CoNLL-2003 sentences. Each layer's query, key and value products, the
scaled dot-product attention between them and the merge of the heads are replaced by one Attention node (fp32,
and QAttention once quantized) reading the packed projection weights and the 2D attention mask.

The graph is matched by its structure, not by names: a Softmax whose input adds a mask to the product of two
projections (query and key) and whose output multiplies a third (value); anything else is left as it was, and
optimized_graph checks the fused graph against the exported one before keeping it.
"""

import numpy as np
import onnx
from onnx import helper, numpy_helper

PASS_THROUGH = ("Mul", "Div", "Transpose", "Reshape", "Add", "Squeeze", "Unsqueeze")


class Graph:
    def __init__(self, model: onnx.ModelProto):
        self.model = model
        self.graph = model.graph
        self.weights = {tensor.name: tensor for tensor in self.graph.initializer}
        self.producer = {name: node for node in self.graph.node for name in node.output}
        self.consumers: dict = {}
        for node in self.graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)

    def is_constant(self, name: str) -> bool:
        node = self.producer.get(name)
        return name in self.weights or (node is not None and node.op_type == "Constant")

    def projection(self, name: str) -> 'onnx.NodeProto | None':
        """(MatMul, bias Add or None) of the weight product that `name` is computed from through reshapes,
        transposes and scalings, or None."""
        node, seen = self.producer.get(name), 0
        while node is not None and seen < 12:
            seen += 1
            if node.op_type == "MatMul" and node.input[1] in self.weights:
                return node
            if node.op_type not in PASS_THROUGH:
                return None
            moving = [name for name in node.input if name and not self.is_constant(name) and name in self.producer]
            if node.op_type in ("Reshape", "Squeeze", "Unsqueeze"):
                moving = moving[:1]  # the data, not the shape
            if len(moving) != 1:
                return None
            node = self.producer.get(moving[0])
        return None

    def bias_of(self, matmul) -> 'onnx.NodeProto | None':
        """The Add of a bias vector right after a projection, or None."""
        for consumer in self.consumers.get(matmul.output[0], []):
            if consumer.op_type == "Add" and any(name in self.weights for name in consumer.input):
                return consumer
        return None

    def single_consumer(self, name: str, op_type: str) -> 'onnx.NodeProto | None':
        found = [node for node in self.consumers.get(name, []) if node.op_type == op_type]
        return found[0] if len(found) == 1 else None

    def context_product(self, softmax) -> 'onnx.NodeProto | None':
        """The MatMul of the attention probabilities and the values, after any NaN guard (IsNaN/Where)."""
        name = softmax.output[0]
        for _ in range(3):
            for node in self.consumers.get(name, []):
                if node.op_type == "MatMul" and node.input[0] == name:
                    return node
            where = self.single_consumer(name, "Where")
            if where is None:
                return None
            name = where.output[0]
        return None

    def merged_heads(self, context) -> 'onnx.NodeProto | None':
        """The Reshape that merges the heads of the context back into (batch, sequence, hidden)."""
        transpose = self.single_consumer(context.output[0], "Transpose")
        return self.single_consumer(transpose.output[0], "Reshape") if transpose is not None else None


def weight(graph: Graph, name: str) -> np.ndarray:
    return numpy_helper.to_array(graph.weights[name])


def fuse_attention(model: onnx.ModelProto, num_heads: int, mask_input: str = "attention_mask") -> int:
    """Fuse every self-attention found in place; returns how many were fused."""
    graph = Graph(model)
    if mask_input not in {graph_input.name for graph_input in model.graph.input}:
        return 0
    mask_name = "attention_mask_int32"
    fused, new_nodes = 0, []
    for softmax in [node for node in model.graph.node if node.op_type == "Softmax"]:
        scores = graph.producer.get(softmax.input[0])
        if scores is not None and scores.op_type == "Add":  # the mask is added to the scores
            scores = next((graph.producer[n] for n in scores.input if n in graph.producer
                           and graph.producer[n].op_type == "MatMul"), None)
        if scores is None or scores.op_type != "MatMul":
            continue
        context = graph.context_product(softmax)
        merge = graph.merged_heads(context) if context is not None else None
        query, key = graph.projection(scores.input[0]), graph.projection(scores.input[1])
        value = graph.projection(context.input[1]) if context is not None else None
        if merge is None or query is None or key is None or value is None or query.input[0] != key.input[0] or key.input[0] != value.input[0]:
            continue
        biases = [graph.bias_of(product) for product in (query, key, value)]
        matrices = [weight(graph, product.input[1]) for product in (query, key, value)]
        hidden = matrices[0].shape[0]
        if any(m.shape != (hidden, hidden) for m in matrices) or hidden % num_heads:
            continue
        vectors = []
        for bias in biases:
            name = next((n for n in bias.input if n in graph.weights), None) if bias is not None else None
            vectors.append(weight(graph, name) if name else np.zeros(hidden, dtype=matrices[0].dtype))
        prefix = f"fused_attention_{fused}"
        model.graph.initializer.extend([
            numpy_helper.from_array(np.concatenate(matrices, axis=1), f"{prefix}_weight"),
            numpy_helper.from_array(np.concatenate(vectors), f"{prefix}_bias"),
        ])
        new_nodes.append(helper.make_node(
            "Attention", [query.input[0], f"{prefix}_weight", f"{prefix}_bias", mask_name], [merge.output[0]],
            name=prefix, domain="com.microsoft", num_heads=num_heads,
        ))
        fused += 1
    if not fused:
        return 0
    new_nodes.insert(0, helper.make_node("Cast", [mask_input], [mask_name], name="attention_mask_to_int32",
                                         to=onnx.TensorProto.INT32))
    replaced = {node.output[0] for node in new_nodes}
    kept = [node for node in model.graph.node if not set(node.output) & replaced]
    del model.graph.node[:]
    model.graph.node.extend(in_order(new_nodes + kept, model))
    remove_unused(model)
    if not any(opset.domain == "com.microsoft" for opset in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return fused


def in_order(nodes: list, model: onnx.ModelProto) -> list:
    """The nodes sorted so that every node comes after the producers of its inputs."""
    available = {tensor.name for tensor in model.graph.initializer} | {i.name for i in model.graph.input} | {""}
    ordered, waiting = [], list(nodes)
    while waiting:
        ready = [node for node in waiting if all(name in available for name in node.input)]
        if not ready:
            raise ValueError("the fused graph has a cycle or a missing input")
        for node in ready:
            ordered.append(node)
            available.update(node.output)
        waiting = [node for node in waiting if node not in ready]
    return ordered


def remove_unused(model: onnx.ModelProto) -> None:
    """Drop the nodes and weights nothing reads any more (the unfused attention)."""
    needed = {output.name for output in model.graph.output}
    kept = []
    for node in reversed(model.graph.node):
        if set(node.output) & needed:
            kept.append(node)
            needed.update(node.input)
    del model.graph.node[:]
    model.graph.node.extend(reversed(kept))
    weights = [tensor for tensor in model.graph.initializer if tensor.name in needed]
    del model.graph.initializer[:]
    model.graph.initializer.extend(weights)
