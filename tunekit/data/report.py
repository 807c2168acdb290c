"""The data report every run writes before training (and --inspect_data writes alone): per split the examples,
words and word pieces against --max_seq_length, the labels, the tagging scheme the tags were written in and how many were rewritten to IOB2, labels
dev/test have that training lacks, and examples that appear both in training and in dev/test.

Read from the raw splits with the run's tokenizer, as the encoder will see them: what a user should know before
spending an hour of training on broken labels or a too-short max length.
"""

import json
import logging
import os
from enum import Enum
from collections import Counter

import numpy as np

from tunekit.folder import OutputFolder
from tunekit.data.sources import size_or_none
from tunekit.files import atomic_write, write_json
from tunekit.splits import BY_NAME, short_name

logger = logging.getLogger("tunekit")
PERCENTILES = (50, 90, 95, 99)


class LabelKind(Enum):
    """What a task's examples are labelled with, as the data report counts them."""

    TAGS = "tags"  # a tag per word, counted as entities with their scheme
    CLASSES = "classes"  # one or several labels per text
    NUMBERS = "numbers"  # a value per text (regression), summarised as numbers

    @property
    def unit(self) -> str:
        """What one example is called."""
        return "sentences" if self is LabelKind.TAGS else "texts"



def percentiles(values: np.ndarray) -> dict:
    if not len(values):
        return {}
    shown = {f"p{p}": int(np.percentile(values, p)) for p in PERCENTILES}
    return dict(shown, min=int(values.min()), max=int(values.max()), mean=round(float(values.mean()), 1))


def split_facts(dataset, measure, max_length: int, kind: LabelKind) -> tuple[dict, set]:
    """(the figures of one split, its examples as text); measure(batch) -> word pieces per example (with special
    tokens); kind: word tags (counted as entities), text labels, or numbers (summarised as numbers)."""
    tagged = kind is LabelKind.TAGS
    if tagged:  # seqeval (and the scikit-learn it imports, 1 s) only where tags are read
        from seqeval.metrics.sequence_labeling import get_entities
    pieces, words, keys, values = [], [], [], []
    labels: Counter = Counter()
    tag_counts: Counter = Counter()
    schemes: Counter = Counter()
    retagged = 0
    for batch in dataset.iter(batch_size=2048):
        pieces += measure(batch)
        if tagged:
            words += [len(tokens) for tokens in batch["tokens"]]
            keys += [" ".join(tokens) for tokens in batch["tokens"]]
            for tags in batch["tags"]:
                tag_counts.update(tags)
                labels.update(entity for entity, _, _ in get_entities(list(tags)))
            schemes.update(batch["scheme"])
            retagged += sum(batch["retagged"])
        else:
            words += [len(a.split()) + len((b or "").split()) for a, b in zip(batch["text_a"], batch["text_b"])]
            keys += [a + "\t" + (b or "") for a, b in zip(batch["text_a"], batch["text_b"])]
            for example_labels in batch["labels"]:
                if kind is LabelKind.NUMBERS:
                    values += [float(value) for value in example_labels]
                else:
                    tag_counts.update(example_labels)
    lengths = np.asarray(pieces)
    longer = int((lengths > max_length).sum())
    facts = {
        "examples": len(words), "words": int(sum(words)), "word_pieces": percentiles(lengths),
        "longer_than_max_seq_length": longer, "labels_seen": dict(sorted(tag_counts.items())),
    }
    if values:
        facts["label_values"] = {"min": min(values), "mean": round(float(np.mean(values)), 4), "max": max(values)}
    if tagged:
        written_in = schemes.most_common(1)[0][0] if schemes and tag_counts else None
        facts.update(entities=dict(labels.most_common()), scheme=written_in, tags_rewritten_to_IOB2=retagged)
    return facts, set(keys)


def data_report(splits: dict, measure, max_length: int, longer_means: str, kind: LabelKind) -> dict:
    """{max_seq_length, longer_means, splits: {split: figures}, unseen_labels, overlap} of the readable splits."""
    report: dict = {"max_seq_length": max_length, "longer_means": longer_means, "splits": {}, "unseen_labels": {},
              "overlap": {}, "not_inspected": []}
    keys: dict = {}
    for split, (dataset, _) in splits.items():
        if size_or_none(dataset) is None:
            report["not_inspected"].append(split)  # a stream is read once, by training
            continue
        report["splits"][split], keys[split] = split_facts(dataset, measure, max_length, kind)
    train = report["splits"].get("train")
    for split, facts in report["splits"].items():
        if split == "train" or train is None:
            continue
        if facts["labels_seen"]:
            report["unseen_labels"][split] = sorted(set(facts["labels_seen"]) - set(train["labels_seen"]))
        shared = keys[split] & keys["train"]
        report["overlap"][split] = {"distinct_examples_also_in_train": len(shared),
                                    "share": round(len(shared) / max(len(keys[split]), 1), 4),
                                    "some": sorted(shared, key=len, reverse=True)[:5]}
    return report


def accumulated(earlier: dict, report: dict) -> dict:
    """A later run's report (eval.sh, a rerun that evaluates) added to the folder's earlier one: the splits it read
    replace theirs, the others (training's row) stay; labels a split has that the earlier training lacked are
    found from training's counts, and an overlap with training is kept where the split is the one measured then
    (same examples and words), since the training data is not read again."""
    merged = dict(earlier, splits=dict(earlier.get("splits", {})), unseen_labels=dict(earlier.get("unseen_labels", {})),
                  overlap=dict(earlier.get("overlap", {})), max_seq_length=report["max_seq_length"],
                  longer_means=report["longer_means"], not_inspected=report["not_inspected"])
    train = merged["splits"].get("train")
    for split, facts in report["splits"].items():
        before = merged["splits"].get(split)
        merged["splits"][split] = facts
        if train is None:  # nothing to compare it with (a report without training has neither)
            merged["unseen_labels"].pop(split, None)
            merged["overlap"].pop(split, None)
            continue
        if facts["labels_seen"]:
            merged["unseen_labels"][split] = sorted(set(facts["labels_seen"]) - set(train["labels_seen"]))
        same = before is not None and (before["examples"], before["words"]) == (facts["examples"], facts["words"])
        if not same:
            merged["overlap"].pop(split, None)
    order = list(BY_NAME)  # the JSON file holds its splits sorted by name: train first again
    merged["splits"] = dict(sorted(merged["splits"].items(), key=lambda item: (
        order.index(item[0]) if item[0] in order else len(order), item[0])))
    return merged


def shown_counts(counts: dict, limit: int = 8) -> str:
    total = sum(counts.values()) or 1
    shown = [f"{name} {count} ({100 * count / total:.1f}%)" for name, count in list(counts.items())[:limit]]
    return ", ".join(shown) + (f", ... ({len(counts) - limit} more)" if len(counts) > limit else "")


def report_text(report: dict, kind: LabelKind) -> str:
    """The short table the run prints and writes as data_report.txt."""
    unit = kind.unit
    lines = [f"{'split':<6} {unit:>9} {'words':>9}  word pieces p50/p95/p99/max  > max_seq_length {report['max_seq_length']}"]
    for split, facts in report["splits"].items():
        pieces = facts["word_pieces"]
        shown = "/".join(str(pieces.get(key, "-")) for key in ("p50", "p95", "p99", "max"))
        share = 100 * facts["longer_than_max_seq_length"] / max(facts["examples"], 1)
        lines.append(f"{short_name(split):<6} {facts['examples']:>9} {facts['words']:>9}  {shown:<28} "
                     f"{facts['longer_than_max_seq_length']} ({share:.1f}%) {report['longer_means']}")
    for split, facts in report["splits"].items():
        name = short_name(split)
        if kind is LabelKind.TAGS and facts.get("scheme"):
            rewritten = facts["tags_rewritten_to_IOB2"]
            read_as = f", read as IOB2 ({rewritten} tags rewritten)" if rewritten else ""
            lines.append(f"{name}: scheme {facts['scheme']}{read_as}; entities: {shown_counts(facts['entities']) or 'none'}")
        elif kind is not LabelKind.TAGS and facts["labels_seen"]:
            lines.append(f"{name}: labels {shown_counts(dict(Counter(facts['labels_seen']).most_common()))}")
        elif "label_values" in facts:
            lines.append(f"{name}: label values " + ", ".join(f"{k} {v:g}" for k, v in facts["label_values"].items()))
    for split, unseen in report["unseen_labels"].items():
        if unseen:
            lines.append(f"{short_name(split)}: labels not in training: {', '.join(unseen[:10])}")
    if report["unseen_labels"] and not any(report["unseen_labels"].values()):
        lines.append("every dev/test label occurs in training")
    for split, overlap in report["overlap"].items():
        lines.append(f"{short_name(split)}: {overlap['distinct_examples_also_in_train']} distinct {unit} "
                     f"({100 * overlap['share']:.1f}%) also in train")
    if report["not_inspected"]:
        lines.append(f"not inspected (streamed): {', '.join(report['not_inspected'])}")
    return "\n".join(lines)


def read_data_report(output_dir: str) -> dict | None:
    """The folder's data_report.json, or None."""
    path = OutputFolder(output_dir).data_report("json")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


def write_data_report(output_dir: str, report: dict, kind: LabelKind) -> str:
    """data_report.json and data_report.txt in the output folder; returns the text."""
    text = report_text(report, kind)
    write_json(OutputFolder(output_dir).data_report("json"), report)
    atomic_write(OutputFolder(output_dir).data_report("txt"), text + "\n")
    return text
