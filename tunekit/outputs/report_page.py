"""report.html: one self-contained page per output folder that says what was trained and how well.

Sections: the resolved configuration, the data report, the training curves (the PNG, inlined), the results with
their 95% intervals, per-type scores, the confusion matrix and, for NER, the error analysis with the worst
sentences' gold and predicted entities highlighted. No scripts, fonts or images are fetched: the page reads the
same offline, mailed or archived.
"""

import base64
import json
import os
from typing import Callable

from tunekit.outputs.folder_sections import page_sections
from tunekit.outputs.html_parts import escaped, table
from tunekit.folder import OutputFolder, REPORT_FILE
from tunekit.evaluation.entity_errors import KINDS
from tunekit.files import atomic_write
from tunekit.outputs.plots import confusion_matrix, word_types
from tunekit.splits import title
from tunekit.evaluation.scored import Scored

HIDDEN_METRICS = ("runtime", "samples_per_second", "steps_per_second", "samples")
PALETTE = ("#ffd3b6", "#c7e9ff", "#c9f2c7", "#e8d7ff", "#fff1a8", "#ffc7de", "#d4f0f0", "#e0e0e0")

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 64rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
h3 { font-size: 1rem; } .meta, .note { color: #666; font-size: .9rem; }
pre { background: #f6f6f6; padding: .6rem; overflow-x: auto; font-size: .85rem; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: .9rem; }
th, td { padding: .2rem .6rem; border-bottom: 1px solid #eee; text-align: right; }
th:first-child, td:first-child { text-align: left; }
nav a { margin-right: .8rem; } img { max-width: 100%; }
mark { padding: .05rem .2rem; border-radius: .2rem; }
mark sub { font-size: .65rem; font-weight: 600; color: #444; margin-left: .15rem; }
.sentence { line-height: 2; margin: .2rem 0; } .label { display: inline-block; width: 5.5rem; color: #666; }
.errors { color: #8a1c1c; font-size: .85rem; margin-bottom: .9rem; }
"""


def number(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else escaped(value)


def results_section(train_metrics: dict | None, summary: dict) -> str:
    rows = []
    for prefix, metrics in summary.items():
        for key, value in metrics.items():
            name = key[len(prefix) + 1:]
            if name.endswith(("_ci_low", "_ci_high")) or name.startswith("errors_") or name in HIDDEN_METRICS:
                continue
            interval = (f"{metrics[f'{key}_ci_low']:.4f} – {metrics[f'{key}_ci_high']:.4f}"
                        if f"{key}_ci_low" in metrics else "")
            rows.append([escaped(title(prefix)), escaped(name.replace("_", " ")), number(value), interval])
    text = table(["split", "metric", "value", "95% interval"], rows) if rows else "<p>No split was scored.</p>"
    if train_metrics:
        text += (f"<p class='note'>Training: loss {train_metrics.get('train_loss', float('nan')):.4f} in "
                 f"{train_metrics.get('train_runtime', 0):.0f} s.</p>")
    return text + ("<p class='note'>Intervals: 95% bootstrap percentile intervals over resampled sentences or texts "
                   "(--bootstrap_resamples).</p>")


def per_type_section(scored: Scored) -> str:
    per_type = {kind: values for kind, values in (scored.details or {}).items() if isinstance(values, dict)}
    if not isinstance(scored.details, dict) or not per_type:
        return ""
    rows = [[escaped(kind), number(v["precision"]), number(v["recall"]), number(v["f1"]), escaped(v["number"])]
            for kind, v in sorted(per_type.items())]
    return table(["type", "precision", "recall", "F1", "gold entities"], rows)


def confusion_section(names: list, gold: list, predicted: list, what: str) -> str:
    counts = confusion_matrix(gold, predicted, names)
    largest = max(int(counts.max()), 1)
    rows = []
    for name, row in zip(names, counts):
        cells = [f"<span style='background: rgba(74,144,217,{0.85 * int(c) / largest:.2f}); padding: 0 .3rem'>{int(c)}"
                 "</span>" for c in row]
        rows.append([f"<b>{escaped(name)}</b>"] + cells)
    return (f"<p class='note'>Rows: gold {what}; columns: predicted.</p>"
            + table(["gold \\ predicted"] + names, rows))


def highlighted(tokens: list, entities: list, colours: dict) -> str:
    """The sentence with each entity in a <mark> of its type's colour and its type after it."""
    starts = {entity["words"][0]: entity for entity in entities}
    parts, index = [], 0
    while index < len(tokens):
        entity = starts.get(index)
        if entity is None:
            parts.append(escaped(tokens[index]))
            index += 1
            continue
        start, end = entity["words"]
        colour = colours.setdefault(entity["type"], PALETTE[len(colours) % len(PALETTE)])
        words = " ".join(escaped(token) for token in tokens[start:end])
        parts.append(f"<mark class='entity' data-type='{escaped(entity['type'])}' style='background: {colour}'>"
                     f"{words}<sub>{escaped(entity['type'])}</sub></mark>")
        index = end
    return " ".join(parts)


def error_section(analysis: dict) -> str:
    per_type = [[escaped(kind)] + [escaped(counts[error]) for error in KINDS] for kind, counts in analysis["per_type"].items()]
    per_type.append(["<b>all</b>"] + [f"<b>{analysis['totals'][error]}</b>" for error in KINDS])
    span = analysis["span"]
    text = (table(["type"] + [kind.replace("_", " ") for kind in KINDS], per_type)
            + f"<p>Type-agnostic span scores: precision {span['precision']:.4f}, recall {span['recall']:.4f}, "
              f"F1 {span['f1']:.4f}.</p><h3>Sentences with the most errors</h3>")
    colours: dict = {}
    for sentence in analysis["worst_sentences"]:
        tokens = sentence.get("tokens") or sentence["text"].split(" ")
        errors = "; ".join(
            f"{error['kind'].replace('_', ' ')} ({escaped(error['type'])}): "
            + " → ".join(escaped(side["text"]) for side in (error["gold"], error["predicted"]) if side)
            for error in sentence["error_list"])
        text += (f"<div class='sentence'><span class='label'>#{sentence['sentence'] + 1} gold</span> "
                 f"{highlighted(tokens, sentence['gold'], colours)}</div>"
                 f"<div class='sentence'><span class='label'>predicted</span> "
                 f"{highlighted(tokens, sentence['predicted'], colours)}</div>"
                 f"<div class='errors'>{sentence['errors']} errors: {errors}</div>")
    return text


def tag_sections(prefix: str, scored: Scored, id2label: dict | None) -> str:
    """A tagger's scored split: per-type scores, the confusion of word types and the error analysis."""
    name, text = title(prefix), ""
    if scored.gold is None or not any(scored.gold):
        return text
    per_type = per_type_section(scored)
    if per_type:
        text += f"<h3 id='per-type-{prefix}'>Per-type scores: {name}</h3>{per_type}"
    gold_types, predicted_types = word_types(scored.gold), word_types(scored.predicted)
    types = sorted(set(gold_types) | set(predicted_types), key=lambda t: (t == "O", t))
    text += f"<h3 id='confusion-{prefix}'>Confusion matrix: {name}</h3>"
    text += confusion_section(types, gold_types, predicted_types, "entity type of each word")
    if scored.analysis is not None:
        text += f"<h3 id='errors-{prefix}'>Error analysis: {name}</h3>{error_section(scored.analysis)}"
    return text


def label_sections(prefix: str, scored: Scored, id2label: dict | None) -> str:
    """A classifier's scored split: the confusion matrix of a single-label split (nothing for regression and
    multi-label)."""
    if not (id2label and scored.gold is not None and scored.details is not None
            and getattr(scored.details, "ndim", 0) == 1):
        return ""
    names = [id2label[i] for i in range(len(id2label))]
    gold = [names[i] for i in scored.gold.astype(int).tolist()]
    predicted = [names[i] for i in scored.details.astype(int).tolist()]
    return f"<h3 id='confusion-{prefix}'>Confusion matrix: {title(prefix)}</h3>" + confusion_section(names, gold, predicted, "label")


SplitSections = Callable[[str, Scored, "dict | None"], str]  # a task's sections for one scored split


def inlined_image(path: str, alt: str) -> str:
    if not os.path.exists(path):
        return "<p class='note'>No curves: this run did not train.</p>"
    with open(path, "rb") as stream:
        data = base64.b64encode(stream.read()).decode()
    return f"<img alt='{escaped(alt)}' src='data:image/png;base64,{data}'>"


def file_text(path: str) -> str | None:
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as stream:
        return stream.read()


def page(title: str, meta_html: str, sections: list) -> str:
    """The whole document: title, a line of facts, links to the sections, then each (anchor, heading, html)."""
    nav = "".join(f"<a href='#{anchor}'>{escaped(heading)}</a>" for anchor, heading, _ in sections)
    body = "".join(f"<section id='{anchor}'><h2>{escaped(heading)}</h2>{content}</section>"
                   for anchor, heading, content in sections)
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escaped(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{escaped(title)}</h1><p class='meta'>{meta_html}</p>"
            f"<nav>{nav}</nav>{body}</body></html>\n")


def report_html(output_dir: str, facts: dict, train_metrics: dict | None, summary: dict, split_html: dict) -> str:
    """The page; facts: task, base model and the like shown under the title; split_html: prefix -> the split's
    sections (split_sections), rendered by this run or an earlier one of the folder."""
    title = f"{OutputFolder(output_dir).name}: training report"
    folder = OutputFolder(output_dir)
    config = file_text(folder.run_config)
    data = file_text(folder.data_report("txt"))
    sections = [
        ("configuration", "Configuration",
         f"<pre>{escaped(config)}</pre>" if config else "<p class='note'>No run_config.yaml: not trained here.</p>"),
        ("data", "Data report", f"<pre>{escaped(data)}</pre>" if data else "<p class='note'>No data report.</p>"),
        ("curves", "Training curves", inlined_image(folder.training_curves, "training curves")),
        ("results", "Results", results_section(train_metrics, summary)),
        *page_sections(output_dir),
        ("analysis", "Per split", "".join(split_html.values()) or "<p>No split was scored.</p>"),
    ]
    meta = " · ".join(f"{escaped(key)}: {escaped(value)}" for key, value in facts.items() if value is not None)
    return page(title, meta, sections)


def seeds_report_html(output_dir: str, seeds: list, folders: list, main: tuple, every: tuple) -> str:
    """The --seeds folder's page: the main scores and every metric over the seeds (header, rows as from
    tunekit.programs.seeds.summary_rows) and a link to each seed's own report.html (relative: the folder moves whole)."""
    title = f"{OutputFolder(output_dir).name}: {len(seeds)} seeds"
    links = "".join(
        f"<li><a href='{escaped(os.path.basename(folder))}/{REPORT_FILE}'>seed {escaped(seed)}</a> "
        f"<span class='note'>({escaped(os.path.basename(folder))})</span></li>" for seed, folder in zip(seeds, folders))

    def rows_of(rows: list) -> list:
        return [[escaped(cell) for cell in row] for row in rows]

    sections = [("main", "Main scores", table(main[0], rows_of(main[1]))),
                ("seed-runs", "Each seed's report", f"<ul>{links}</ul>"),
                ("every-metric", "Every metric", table(every[0], rows_of(every[1])))]
    return page(title, f"mean ± sample standard deviation over seeds {escaped(', '.join(map(str, seeds)))}", sections)


def write_page(output_dir: str, text: str) -> str:
    """report.html in the folder; returns its path."""
    path = OutputFolder(output_dir).report
    atomic_write(path, text)
    return path


def newer_weights(output_dir: str, path: str) -> bool:
    """Whether the folder's weights were saved after the file: then it describes an earlier model."""
    weights = [os.path.join(output_dir, name) for name in os.listdir(output_dir) if name.startswith("model")
               and name.endswith(".safetensors")]
    return any(os.path.getmtime(weight) > os.path.getmtime(path) for weight in weights)


def write_report(output_dir: str, facts: dict, train_metrics: dict | None, summary: dict, scored: dict,
                 sections: SplitSections, id2label: dict | None) -> str:
    """A run's report.html (scored: prefix -> Scored of the splits this run scored), added to what earlier runs of
    the folder showed: eval.sh or a rerun replaces the splits it scored and keeps the others and the training's
    figures. The page's parts are kept in report_parts.json; returns the page's path."""
    parts_path = OutputFolder(output_dir).report_parts
    parts: dict = {"summary": {}, "splits": {}, "train": None}
    if os.path.isfile(parts_path) and not newer_weights(output_dir, parts_path):
        with open(parts_path, encoding="utf-8") as stream:
            parts.update(json.load(stream))
    parts["summary"].update(summary)
    parts["splits"].update({prefix: sections(prefix, value, id2label) for prefix, value in scored.items()})
    parts["train"] = train_metrics or parts["train"]
    atomic_write(parts_path, json.dumps(parts, ensure_ascii=False))  # in order: the page keeps its row order
    return write_page(output_dir, report_html(output_dir, facts, parts["train"], parts["summary"], parts["splits"]))
