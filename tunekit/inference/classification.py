"""Labels and probabilities for raw texts or text pairs with a model folder written by run_glue.py."""

import torch

from ..encoding.classification import MULTI_LABEL, REGRESSION, ClassificationEncoder, pool_chunks
from .batches import predict_in_length_order


class ClassificationPredictor:
    def __init__(self, model, tokenizer, max_length, settings, batch_size=32):
        """settings: the data arguments the folder was trained with (truncation side, chunks...)."""
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.problem_type = model.config.problem_type
        self.id2label = {int(k): v for k, v in model.config.id2label.items()}
        self.pooling = settings.get("chunk_pooling", "mean")
        chunk_stride = settings.get("chunk_stride", 32) if settings.get("long_text") == "chunks" else None
        self.encoder = ClassificationEncoder(
            tokenizer, max_length, settings.get("truncation_side", "head"), settings.get("head_tokens", 128),
            self.problem_type, model.config.label2id, False, chunk_stride,
        )
        self.batch_size = batch_size

    def predict(self, texts, pairs=None, progress=None):
        """One result per text: {"label", "probabilities"} ({"value"} for regression, {"labels", ...} multi-label)."""
        if not texts:
            return []
        features = self.encoder({"text_a": texts, "text_b": pairs or [None] * len(texts)}, list(range(len(texts))))
        rows = predict_in_length_order(self.model, self.tokenizer, features, self.batch_size, progress)
        logits, _ = pool_chunks(torch.stack(rows).numpy(), features["example_id"], self.pooling)
        return [self.describe(torch.from_numpy(row)) for row in logits]

    def describe(self, logits):
        if self.problem_type == REGRESSION:
            return {"value": round(float(logits[0]), 6)}
        names = [self.id2label[i] for i in range(len(logits))]
        if self.problem_type == MULTI_LABEL:
            probabilities = torch.sigmoid(logits).tolist()
            chosen = [name for name, p in zip(names, probabilities) if p > 0.5]
            return {"labels": chosen, "probabilities": {n: round(p, 6) for n, p in zip(names, probabilities)}}
        probabilities = torch.softmax(logits, dim=-1).tolist()
        best = max(range(len(names)), key=probabilities.__getitem__)
        return {"label": names[best], "probabilities": {n: round(p, 6) for n, p in zip(names, probabilities)}}
