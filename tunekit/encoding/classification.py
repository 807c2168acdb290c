"""Classification encoding: single texts or real sentence pairs, truncation sides, and label tensors.

Pairs go to the tokenizer as two sequences (token_type_ids where the model has them), truncated longest
first. Single texts are cut by --truncation_side: keep the head, the tail, or the head and the tail (seed 002).
"""

TRUNCATION_SIDES = ("head", "tail", "head_tail")
SINGLE, REGRESSION, MULTI_LABEL = "single_label_classification", "regression", "multi_label_classification"


def keep_pieces(content, budget, side, head_pieces):
    """Cut a list of pieces to `budget` keeping the head, the tail, or `head_pieces` of the head and the rest from the tail."""
    if len(content) <= budget:
        return content
    if side == "head":
        return content[:budget]
    if side == "tail":
        return content[len(content) - budget :]
    head = min(head_pieces, budget)
    tail = budget - head
    return content[:head] + (content[len(content) - tail :] if tail else [])


class ClassificationEncoder:
    """A picklable batched `Dataset.map` function turning text_a/text_b/labels into model features."""

    def __init__(self, tokenizer, max_length, truncation_side, head_pieces, problem_type, label2id, with_labels):
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.truncation_side = truncation_side
        self.head_pieces = head_pieces
        self.problem_type = problem_type
        self.label2id = label2id
        self.with_labels = with_labels
        self.budget = max_length - tokenizer.num_special_tokens_to_add(pair=False)

    def __call__(self, batch):
        if batch["text_b"][0] is not None:
            features = dict(
                self.tokenizer(batch["text_a"], batch["text_b"], truncation="longest_first", max_length=self.max_length)
            )
        else:
            features = self.encode_single(batch["text_a"])
        if self.with_labels:
            features["labels"] = [self.label_value(labels) for labels in batch["labels"]]
        features["length"] = [len(ids) for ids in features["input_ids"]]
        return features

    def encode_single(self, texts):
        encoded = self.tokenizer(texts, truncation=False, verbose=False)
        features = {key: [] for key in encoded.keys()}
        for index in range(len(texts)):
            sequence = encoded.sequence_ids(index)  # None on special tokens
            prefix = next((i for i, s in enumerate(sequence) if s is not None), len(sequence))
            end = len(sequence) - next((i for i, s in enumerate(reversed(sequence)) if s is not None), 0)
            for key in encoded.keys():
                values = encoded[key][index]
                kept = keep_pieces(values[prefix:end], self.budget, self.truncation_side, self.head_pieces)
                features[key].append(values[:prefix] + kept + values[end:])
        return features

    def label_value(self, labels):
        if self.problem_type == REGRESSION:
            return float(labels[0])
        if self.problem_type == MULTI_LABEL:
            vector = [0.0] * len(self.label2id)
            for label in labels:
                vector[self.label2id[label]] = 1.0
            return vector
        return self.label2id[labels[0]]
