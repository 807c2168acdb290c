"""Encoding: word pieces, label alignment and windows for NER; pairs, truncation and chunks for classification."""

# The label id that losses and metrics skip (special tokens, continuation pieces, packed padding): PyTorch's
# cross_entropy default. The CRF's modeling_crf.py keeps its own copy, since it ships inside model folders.
IGNORE_INDEX = -100
