"""Using a fine-tuned output folder on raw text: entity spans, labels and probabilities."""
