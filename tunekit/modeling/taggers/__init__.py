"""Token-classification heads of our own: the CRF (--use_crf) and the BiLSTM (--use_bilstm, --no_encoder); how to
build them around a loaded encoder, and how to recognise and load a saved folder of each."""

import copy

from tunekit.modeling.taggers.modeling_bilstm import SETTINGS as BILSTM_SETTINGS
from tunekit.modeling.taggers.modeling_bilstm import BilstmForTokenClassification, WordEmbeddings
from tunekit.modeling.taggers.modeling_crf import CrfForTokenClassification

CRF_CLASS = "CrfForTokenClassification"
AUTO_CLASS = "AutoModelForTokenClassification"


def is_crf(config) -> bool:
    """Whether a model config belongs to a folder saved with --use_crf."""
    auto_map = getattr(config, "auto_map", None) or {}
    return str(auto_map.get(AUTO_CLASS, "")).endswith(CRF_CLASS)


def bilstm_settings(config) -> 'dict | None':
    """The BiLSTM sizes of a config saved with --use_bilstm or --no_encoder, None for any other."""
    return getattr(config, BILSTM_SETTINGS, None) or None


def card_description(config: dict) -> list:
    """What our tagger heads in a saved config.json put on the encoder, for the model card."""
    bilstm = config.get(BILSTM_SETTINGS) or {}
    parts = []
    if bilstm:
        parts.append(f"a BiLSTM of {bilstm['layers']} layer(s), {bilstm['hidden_size']} units per direction")
    if str((config.get("auto_map") or {}).get(AUTO_CLASS, "")).endswith(CRF_CLASS):
        parts.append("a linear-chain CRF decoded with Viterbi")
    return parts


def card_input(config: dict) -> 'str | None':
    """What a tagger without a pretrained encoder reads instead of one (None: an encoder)."""
    embeddings = (config.get(BILSTM_SETTINGS) or {}).get("embeddings")
    return f"{embeddings}-dimensional word embeddings (no pretrained encoder)" if embeddings else None


def saved_tagger_class(config) -> type:
    """The class that loads a folder with this config: ours where it holds a CRF or a BiLSTM (no remote code to
    trust: the code is the package's), the Auto class otherwise."""
    if is_crf(config):
        return CrfForTokenClassification
    if bilstm_settings(config):
        return BilstmForTokenClassification
    from transformers import AutoModelForTokenClassification

    return AutoModelForTokenClassification


def with_crf(tagger, config) -> CrfForTokenClassification:
    """Wrap a token-classification model in a CRF; saving then also writes modeling_crf.py (and the BiLSTM's file
    it imports) and the auto_map, so the folder loads with AutoModelForTokenClassification (trust_remote_code=True)
    anywhere."""
    CrfForTokenClassification.register_for_auto_class(AUTO_CLASS)
    return CrfForTokenClassification(config, tagger=tagger)


def with_bilstm(encoder, config, hidden_size: int, layers: int, dropout: float,
                embeddings: int = 0) -> BilstmForTokenClassification:
    """A BiLSTM tagger on `encoder` (a loaded base model), or on word embeddings of `embeddings` dimensions when
    encoder is None; the sizes go into a copy of the config (the run's stays that of the data), so the saved folder
    rebuilds the same layers."""
    config = copy.deepcopy(config)
    settings = {"hidden_size": hidden_size, "layers": layers, "dropout": dropout}
    if encoder is None:
        settings["embeddings"] = embeddings
    setattr(config, BILSTM_SETTINGS, settings)
    BilstmForTokenClassification.register_for_auto_class(AUTO_CLASS)
    return BilstmForTokenClassification(config, encoder=encoder)


__all__ = ["BilstmForTokenClassification", "CrfForTokenClassification", "WordEmbeddings", "bilstm_settings",
           "card_description", "card_input", "is_crf", "saved_tagger_class", "with_bilstm", "with_crf"]
