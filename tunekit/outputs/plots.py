"""PNG charts written into the output folder: training curves, per-type scores, confusion matrices.

Each chart is built by a *_figure function (tested on the figure itself) and saved by the function of the
same name without the suffix. Titles name the run (the output folder) and the split.
"""

import functools
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from tunekit.files import replaced_atomically

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FEW_POINTS = 12  # up to this many points a curve shows each value; more draw a plain line


@functools.cache
def pyplot() -> ModuleType:
    """matplotlib.pyplot on the file-only Agg backend, imported on the first chart (0.3 s that runs without
    charts, such as prediction, do not pay)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot

    return matplotlib.pyplot


def save_figure(figure, path: str) -> None:
    """Write through a temporary file and rename, like every file the user keeps."""
    try:
        with replaced_atomically(path) as temporary:
            figure.savefig(temporary, dpi=110, bbox_inches="tight")
    finally:
        pyplot().close(figure)


def training_curves_figure(log_history, metric: str, run) -> 'Figure | None':
    """Training loss and the evaluation metric over steps, or None when there is nothing to draw. A few points
    are drawn as markers with their values (lines between three points say little)."""
    losses = [(entry["step"], entry["loss"]) for entry in log_history if "loss" in entry and "step" in entry]
    if not losses:  # a run shorter than --logging_steps: its average loss at the last step
        losses = [(entry["step"], entry["train_loss"]) for entry in log_history if "train_loss" in entry]
    scores = [(entry["step"], entry[metric]) for entry in log_history if metric in entry and "step" in entry]
    if not losses and not scores:
        return None
    figure, loss_axis = pyplot().subplots(figsize=(7, 4))
    draw_curve(loss_axis, losses, "tab:blue", "training loss")
    loss_axis.set_xlabel("step")
    loss_axis.set_ylabel("training loss", color="tab:blue")
    if scores:
        metric_axis = loss_axis.twinx()
        draw_curve(metric_axis, scores, "tab:orange", f"dev {metric.removeprefix('eval_')}")
        metric_axis.set_ylabel(f"dev {metric.removeprefix('eval_')}", color="tab:orange")
    loss_axis.set_title(f"{run}: training")
    return figure


def draw_curve(axis, points, color, label: str) -> None:
    if not points:
        return
    steps, values = zip(*points)
    few = len(points) <= FEW_POINTS
    axis.plot(steps, values, color=color, marker="o" if few else None, linestyle=":" if few else "-", label=label)
    if few:
        for step, value in points:
            axis.annotate(f"{value:.3g}", (step, value), textcoords="offset points", xytext=(0, 6), ha="center",
                          fontsize=8, color=color)


def training_curves(log_history, metric: str, path: str, run="run") -> bool:
    """Write the training chart; returns False when there is nothing to draw."""
    figure = training_curves_figure(log_history, metric, run)
    if figure is None:
        return False
    save_figure(figure, path)
    return True


def per_type_scores_figure(scores, title: str) -> 'Figure':
    """Grouped precision / recall / F1 bars for each entity type with their values; the legend sits above the
    plot, where it hides no bar. scores: type -> {precision, recall, f1}."""
    types = sorted(scores)
    positions = np.arange(len(types))
    figure, axis = pyplot().subplots(figsize=(max(5, 1.6 * len(types)), 4))
    for offset, name in zip((-0.27, 0, 0.27), ("precision", "recall", "f1")):
        bars = axis.bar(positions + offset, [scores[t][name] for t in types], width=0.27, label=name)
        axis.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    axis.set_xticks(positions, types)
    axis.set_ylim(0, 1.12)
    axis.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    axis.set_title(title, pad=24)
    return figure


def per_type_scores(scores, path: str, title: str = "Scores per entity type") -> None:
    save_figure(per_type_scores_figure(scores, title), path)


def word_types(tags: list) -> list:
    """Entity type (without B-/I-) of every word of every sentence, for the confusion matrix."""
    return [tag.partition("-")[2] or tag for sentence in tags for tag in sentence]


def confusion_matrix(gold, predicted, labels) -> 'np.ndarray':
    """Counts[i][j]: examples of gold labels[i] predicted as labels[j]."""
    index = {label: i for i, label in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)), dtype=int)
    for truth, guess in zip(gold, predicted):
        counts[index[truth], index[guess]] += 1
    return counts


def confusion_figure(counts, labels, title: str) -> 'Figure':
    """Colours show each gold row's shares (so a huge O row does not wash out the errors), with a colour bar;
    every cell shows its count and share."""
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    size = max(4.5, 0.8 * len(labels) + 2.5)
    figure, axis = pyplot().subplots(figsize=(size + 1, size))
    image = axis.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    figure.colorbar(image, ax=axis, fraction=0.046, pad=0.04, label="share of the gold row")
    axis.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axis.set_yticks(range(len(labels)), labels)
    axis.set_xlabel("predicted")
    axis.set_ylabel("gold")
    for i in range(len(labels)):
        for j in range(len(labels)):
            if counts[i, j]:
                share = f"{shares[i, j]:.0%}" if shares[i, j] >= 0.005 else "<1%"
                axis.text(j, i, f"{counts[i, j]}\n{share}", ha="center", va="center", fontsize=7,
                          color="white" if shares[i, j] > 0.5 else "black")
    axis.set_title(title)
    return figure


def confusion_chart(counts, labels, path: str, title: str) -> None:
    save_figure(confusion_figure(counts, labels, title), path)
