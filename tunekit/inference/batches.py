"""Running a model over encoded features in batches of similar length, returning logits in input order."""

import torch

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def predict_in_length_order(model, tokenizer, features, batch_size: int, progress=None) -> list:
    """Logits per feature (a tensor of shape [length, labels] or [labels]), in the order of `features`.

    Sorting by length keeps padding small; each batch is padded to its own longest feature.
    """
    count = len(features["input_ids"])
    order = sorted(range(count), key=lambda index: len(features["input_ids"][index]))
    results = [None] * count
    inputs = [name for name in MODEL_INPUTS if name in features]
    with torch.inference_mode():
        for start in range(0, count, batch_size):
            chosen = order[start : start + batch_size]
            batch = tokenizer.pad(
                [{name: features[name][index] for name in inputs} for index in chosen], return_tensors="pt"
            )
            logits = model(**{name: batch[name] for name in inputs if name in batch}).logits.float()
            for row, index in enumerate(chosen):
                length = len(features["input_ids"][index])
                results[index] = logits[row, :length] if logits.dim() == 3 else logits[row]
            if progress is not None:
                progress.update(len(chosen))
    return results
