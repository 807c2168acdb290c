"""CRF decoding for NER (--use_crf): the model class, and how to recognise and load a saved CRF folder."""

from tunekit.modeling.crf.modeling_crf import CrfForTokenClassification

CRF_CLASS = "CrfForTokenClassification"


def is_crf(config) -> bool:
    """Whether a model config belongs to a folder saved with --use_crf."""
    auto_map = getattr(config, "auto_map", None) or {}
    return str(auto_map.get("AutoModelForTokenClassification", "")).endswith(CRF_CLASS)


def with_crf(tagger, config) -> CrfForTokenClassification:
    """Wrap a token-classification model in a CRF; saving then also writes modeling_crf.py and the auto_map,
    so the folder loads with AutoModelForTokenClassification (trust_remote_code=True) anywhere."""
    CrfForTokenClassification.register_for_auto_class("AutoModelForTokenClassification")
    return CrfForTokenClassification(config, tagger=tagger)


__all__ = ["CrfForTokenClassification", "is_crf", "with_crf"]
