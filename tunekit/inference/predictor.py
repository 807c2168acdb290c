"""What every task's predictor is and how one is loaded from a saved folder: predict.sh and the server ask the
folder's task for a Predictor (tasks.base.Task.predictor) and use nothing but this interface."""

import logging
import os
from dataclasses import dataclass
from typing import Any, Callable, Optional, Protocol

from tunekit.errors import UserError
from tunekit.folder import OutputFolder

logger = logging.getLogger("tunekit")


@dataclass(frozen=True)
class PredictorOptions:
    """How to run a folder: the length (default: training's), rows per model call, the backend (BACKENDS) and int8."""

    max_seq_length: Optional[int] = None
    batch_size: int = 32
    backend: str = "torch"
    quantize: str = "none"


class Predictor(Protocol):
    """One task's answers to raw texts, as predict.sh writes them and the server returns them."""

    labels: list  # what the page lists: the classes, or the entity types a tagger finds
    accepts_pairs: bool  # whether an input may be a (text, text_pair)
    cuts_at_sentences: bool  # whether a long text may be predicted sentence by sentence with the same answer
    shows: str  # what the page draws: "entities" (spans over the text) or "labels"
    title: str  # what the page calls the model ("NER model")

    def records(self, texts: list, pairs: Optional[list], progress: Any = None) -> list[dict]:
        """One record per text: the text (and its pair) with what the model found."""
        ...


@dataclass(frozen=True)
class LoadedFolder:
    """A saved folder's model run by the chosen backend, its tokenizer, length and the data arguments it was
    trained with."""

    model: Any
    tokenizer: Any
    max_length: int
    data_args: dict
    folder: OutputFolder


def load_folder(folder: str, model_class: Callable[[Any], Any], options: PredictorOptions) -> LoadedFolder:
    """The folder's model (model_class(config): the class that loads it), in the chosen backend."""
    import transformers
    from transformers import AutoConfig, AutoTokenizer

    from tunekit.data.max_length import model_max_length
    from tunekit.inference.backend import runtime_model

    output = OutputFolder(folder)
    if not os.path.isfile(output.model_config):
        raise UserError(f"{folder}: not a model folder (no config.json)")
    transformers.utils.logging.disable_progress_bar()  # the prediction bar is ours; no "Loading weights" bar
    data_args = output.facts().get("data", {})
    config = AutoConfig.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    length = model_max_length(tokenizer, config, options.max_seq_length or data_args.get("max_seq_length"))
    model = runtime_model(model_class(config).from_pretrained(folder), tokenizer, folder, options.backend,
                          options.quantize)
    return LoadedFolder(model, tokenizer, length, data_args, output)


def predicted_records(predictor: Predictor, texts: list, pairs: Optional[list], progress: Any = None) -> list:
    """One record per text, as predict.sh writes them (and the server returns them). Should the batch fail, each
    text is predicted alone, so that a text the model cannot read gets {"text", "error"} and takes no other text
    down with it."""
    try:
        return predictor.records(texts, pairs, progress)
    except Exception:  # noqa: BLE001 - find the text that fails; the others are answered
        if len(texts) < 2:
            return [failed_record(texts[0])] if texts else []
    return [record for i in range(len(texts))
            for record in predicted_records(predictor, texts[i:i + 1], pairs[i:i + 1] if pairs else None)]


def failed_record(text: str) -> dict:
    logger.exception("a text could not be predicted")
    return {"text": text, "error": "the model could not read this text (an internal error, logged with its traceback)"}
