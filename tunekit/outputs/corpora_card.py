"""What a folder trained on several corpora (--corpora) says about them in its model card: each corpus's data,
weight, label map and the types it annotates, and its own dev and test scores beside the line for all."""

import os

from tunekit.outputs.score_text import with_interval
from tunekit.splits import part_prefix

SPLITS = (("eval", "dev"), ("predict", "test"))


def corpora_markdown(config: dict, results: dict) -> str:
    """The card's section, or "" for a folder trained on one corpus."""
    corpora = config.get("corpora")
    if not corpora:
        return ""
    rows = []
    for corpus in corpora:
        data = ", ".join(f"{key} `{shown(key, value)}`" for key, value in (corpus.get("data") or {}).items())
        mapped = ", ".join(f"{source} → {target or 'O'}" for source, target in (corpus.get("label_map") or {}).items())
        rows.append(f"| {corpus['name']} | {data} | {corpus.get('weight', 1)} | {', '.join(corpus['annotates'])} | "
                    f"{mapped or 'as written'} |")
    text = ("## Corpora\n\nTrained on several corpora, their labels mapped onto one set. Where a corpus that does not "
            "annotate every type says O, training did not count those types as wrong; each corpus is scored on the "
            "types it annotates (another type predicted there counts as O).\n\n"
            "| corpus | data | weight | annotates | label map |\n| --- | --- | --- | --- | --- |\n" + "\n".join(rows))
    scores = [(prefix, split) for prefix, split in SPLITS if f"{prefix}_f1" in results]
    if scores:
        header = " | ".join(f"{split} F1" for _, split in scores)
        lines = [f"| all | " + " | ".join(with_interval(results, f"{prefix}_f1") for prefix, _ in scores) + " |"]
        lines += [f"| {corpus['name']} | " + " | ".join(with_interval(results, f"{part_prefix(prefix, corpus['name'])}_f1")
                                                        for prefix, _ in scores) + " |" for corpus in corpora]
        text += f"\n\n| corpus | {header} |\n| --- |{' --- |' * len(scores)}\n" + "\n".join(lines)
    return text + "\n\n"


def shown(key: str, value) -> str:
    """A data key's value as the card shows it: a path by its last part (never an absolute local path)."""
    return os.path.basename(os.path.normpath(str(value))) if key.endswith(("_dir", "_file")) else str(value)
