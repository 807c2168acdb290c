"""Encoding: word pieces, label alignment and windows for NER; pairs, truncation and chunks for classification."""

# The label id that losses and metrics skip (special tokens, continuation pieces, packed padding): PyTorch's
# cross_entropy default. The CRF's modeling_crf.py keeps its own copy, since it ships inside model folders.
IGNORE_INDEX = -100
# A position the tagger predicts (a word's first piece) that has no gold label: text only a teacher labels
# (--distill_text). The gold loss skips it; the distillation loss does not.
UNLABELLED = -2
# Labels from PARTIAL_BASE down (IGNORE_INDEX apart): a word a corpus tagged O that may still be of a type the corpus does not
# annotate (--corpora): PARTIAL_BASE - k stands for the k-th set of labels allowed there (config.partial_label_sets).
# The losses count the probability of the whole set. modeling_crf.py keeps its own copy.
PARTIAL_BASE = -10
