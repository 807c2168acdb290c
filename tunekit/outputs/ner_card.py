"""What a tagger's model card says that other cards do not: the per-entity-type table, where several corpora came
from and their section, and what a tagger trained without a pretrained encoder can know."""

import os
from typing import Any, Optional

from tunekit.folder import OutputFolder
from tunekit.outputs.corpora_card import corpora_markdown


def per_type_table(output_dir: str, config: dict, results: dict) -> str:
    """Per entity type precision / recall / F1 / support from seqeval's reports (dev and test)."""
    rows = []
    for split, name in (("dev", "eval"), ("test", "test")):
        path = OutputFolder(output_dir).split_file(name, "classification_report.txt")
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as stream:
            for line in stream:
                parts = line.split()
                if len(parts) == 5 and parts[0] not in ("precision",) and " avg" not in line:
                    kind, precision, recall, f1, support = parts
                    rows.append(f"| {split} | {kind} | {float(precision):.4f} | {float(recall):.4f} | {float(f1):.4f} | {support} |")
    if not rows:
        return ""
    return ("\n\nPer entity type:\n\n| split | type | precision | recall | f1 | entities |\n"
            "| --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows))


def corpora_source(data_args: Any) -> Optional[str]:
    """The data of a run on several corpora (--corpora): named in their own section."""
    return "several corpora (see Corpora below)" if data_args.corpora else None


def corpora_section(output_dir: str, config: dict, results: dict) -> str:
    return corpora_markdown(config, results)


def scratch_limitation(data_args: Any) -> Optional[str]:
    """What a tagger without a pretrained encoder (--no_encoder) can know."""
    if not data_args.no_encoder:
        return None
    return ("- No pretrained encoder: the model knows only what its training data holds; words it never saw are read "
            "as their characters" + ("" if data_args.character_pieces else " (here: as [UNK])") + ".")
