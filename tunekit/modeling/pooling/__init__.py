"""How a classifier reads its text vector (--sentence_pooling) and pools a long text's chunks (--chunk_pooling
attention): the model class, building it around a loaded encoder, and recognising a saved folder."""

import copy
import json
import os

from tunekit.modeling.pooling.modeling_pooling import SETTINGS, TOKEN_POOLINGS, AttentionPooling, PooledForSequenceClassification

AUTO_CLASS = "AutoModelForSequenceClassification"
SENTENCE_TRANSFORMERS_MODES = {"pooling_mode_mean_tokens": "mean", "pooling_mode_max_tokens": "max",
                               "pooling_mode_cls_token": "cls"}


def pooling_settings(config) -> 'dict | None':
    """The pooling of a config saved by PooledForSequenceClassification, None for any other."""
    return getattr(config, SETTINGS, None) or None


def card_description(config: dict) -> list:
    """What our pooling in a saved config.json puts on the encoder, for the model card."""
    pooling = config.get(SETTINGS)
    if not pooling:
        return []
    return [("each text of a pair read alone (siamese), " if pooling.get("pairs") else "")
            + f"the text vector pooled from the last layer by {pooling['tokens']}"
            + (f", a long text's chunks of {pooling['chunk_length']} pieces by a learned attention"
               if pooling.get("chunks") else "")]


def saved_classifier_class(config) -> type:
    """The class that loads a folder with this config: ours where it pools (the code is the package's, no remote
    code to trust), the Auto class otherwise."""
    if pooling_settings(config):
        return PooledForSequenceClassification
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification


def with_pooling(encoder, config, tokens: str, chunk_length: 'int | None',
                 siamese: bool = False) -> PooledForSequenceClassification:
    """A classifier on `encoder` (a loaded base model) that pools its tokens by `tokens` and, when chunk_length is
    given, a long text's chunks by attention, or with siamese reads the texts of a pair apart; the choices go into
    a copy of the config."""
    config = copy.deepcopy(config)
    settings: dict[str, str | int] = {"tokens": tokens}
    if chunk_length:
        settings.update(chunks="attention", chunk_length=chunk_length)
    if siamese:
        settings["pairs"] = "siamese"
    setattr(config, SETTINGS, settings)
    PooledForSequenceClassification.register_for_auto_class(AUTO_CLASS)
    return PooledForSequenceClassification(config, encoder=encoder)


def trained_pooling(model: str, hub_options: 'dict | None' = None) -> 'str | None':
    """How a sentence-transformers model was trained to pool (its 1_Pooling/config.json, in the folder or on the
    Hub): mean, max or cls; None for other models."""
    path = os.path.join(model, "1_Pooling", "config.json")
    if not os.path.isdir(model):
        from huggingface_hub import hf_hub_download

        options = {k: v for k, v in (hub_options or {}).items() if k in ("cache_dir", "revision", "token")}
        try:
            path = hf_hub_download(model, "1_Pooling/config.json", **options)
        except (OSError, ValueError):  # offline, no such file or model: the hub's errors are OSErrors
            return None
    if not path or not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as stream:
        modes = json.load(stream)
    return next((name for key, name in SENTENCE_TRANSFORMERS_MODES.items() if modes.get(key)), None)


__all__ = ["AttentionPooling", "PooledForSequenceClassification", "TOKEN_POOLINGS", "card_description", "pooling_settings",
           "saved_classifier_class", "trained_pooling", "with_pooling"]
