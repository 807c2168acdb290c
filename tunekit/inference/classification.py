"""Labels and probabilities for raw texts or text pairs with a model folder written by run_glue.py."""

import torch

from tunekit.data.problem_types import MULTI_LABEL, REGRESSION
from tunekit.encoding.classification import ClassificationEncoder, labels_and_probabilities, pool_chunks
from tunekit.inference.batches import predict_in_length_order


class ClassificationPredictor:
    accepts_pairs = True
    cuts_at_sentences = False
    shows = "labels"
    title = "Classification model"

    def __init__(self, model, tokenizer, max_length, settings, batch_size=32, thresholds=None):
        """settings: the data arguments the folder was trained with (truncation side, chunks...); thresholds: a
        multi-label folder's tuned thresholds (thresholds.json), None for 0.5."""
        self.thresholds = thresholds
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.problem_type = model.config.problem_type
        self.id2label = {int(k): v for k, v in model.config.id2label.items()}
        self.labels = sorted(set(self.id2label.values()))  # the page lists the classes
        self.pooling = settings.get("chunk_pooling", "mean")
        chunk_stride = settings.get("chunk_stride", 32) if settings.get("long_text") == "chunks" else None
        self.encoder = ClassificationEncoder(
            tokenizer, max_length, settings.get("truncation_side", "head"), settings.get("head_tokens", 128),
            self.problem_type, model.config.label2id, False, chunk_stride,
            join_chunks=chunk_stride is not None and self.pooling == "attention",
        )
        self.batch_size = batch_size

    def predict(self, texts, pairs=None, progress=None) -> list:
        """One result per text: {"label", "probabilities"} ({"value"} for regression, {"labels", ...} multi-label)."""
        if not texts:
            return []
        features = self.encoder({"text_a": texts, "text_b": pairs or [None] * len(texts)}, list(range(len(texts))))
        rows = predict_in_length_order(self.model, self.tokenizer, features, self.batch_size, progress)
        logits, _ = pool_chunks(torch.stack(rows).numpy(), features["example_id"], self.pooling)
        if self.problem_type == REGRESSION:
            return [{"value": round(float(row[0]), 6)} for row in logits]
        names = [self.id2label[i] for i in range(logits.shape[1])]
        results = []
        for chosen, probabilities in labels_and_probabilities(logits, self.problem_type, names, self.thresholds):
            result = {"labels": chosen} if self.problem_type == MULTI_LABEL else {"label": chosen[0]}
            result["probabilities"] = {n: round(float(p), 6) for n, p in zip(names, probabilities)}
            results.append(result)
        return results

    def records(self, texts: list, pairs: list | None = None, progress=None) -> list[dict]:
        """The text (and its pair) with its label and probabilities; a blank text gets an empty result."""
        filled = [i for i, text in enumerate(texts) if text.strip()]
        predicted = self.predict([texts[i] for i in filled], [pairs[i] for i in filled] if pairs else None, progress)
        results: list[dict] = [{"label": None, "probabilities": {}} for _ in texts]
        for index, prediction in zip(filled, predicted):
            results[index] = prediction
        return [dict({"text": text}, **({"text_pair": pairs[i]} if pairs else {}), **result)
                for i, (text, result) in enumerate(zip(texts, results))]
