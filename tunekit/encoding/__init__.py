"""Encoding: word pieces, label alignment and windows for NER; pairs, truncation and chunks for classification."""

# The label id that losses and metrics skip (special tokens, continuation pieces, packed padding): PyTorch's
# cross_entropy default. The CRF's modeling_crf.py keeps its own copy, since it ships inside model folders.
IGNORE_INDEX = -100
# A position the tagger predicts (a word's first piece) that has no gold label: text only a teacher labels
# (--distill_text). The gold loss skips it; the distillation loss does not.
UNLABELLED = -2
