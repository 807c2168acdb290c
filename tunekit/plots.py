"""PNG charts written into the output folder: training curves, per-type scores, confusion matrices."""

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .outputs import replaced_atomically  # noqa: E402


def save_figure(figure, path):
    """Write through a temporary file and rename, like every file the user keeps."""
    try:
        with replaced_atomically(path) as temporary:
            figure.savefig(temporary, dpi=110, bbox_inches="tight")
    finally:
        plt.close(figure)


def training_curves(log_history, metric, path):
    """Training loss and the evaluation metric over steps; returns False when there is nothing to draw."""
    losses = [(entry["step"], entry["loss"]) for entry in log_history if "loss" in entry and "step" in entry]
    if not losses:  # a run shorter than --logging_steps: its average loss at the last step
        losses = [(entry["step"], entry["train_loss"]) for entry in log_history if "train_loss" in entry]
    scores = [(entry["step"], entry[metric]) for entry in log_history if metric in entry and "step" in entry]
    if not losses and not scores:
        return False
    figure, loss_axis = plt.subplots(figsize=(7, 4))
    if losses:
        loss_axis.plot(*zip(*losses), color="tab:blue", marker="." if len(losses) < 20 else None, label="training loss")
    loss_axis.set_xlabel("step")
    loss_axis.set_ylabel("training loss", color="tab:blue")
    if scores:
        metric_axis = loss_axis.twinx()
        metric_axis.plot(*zip(*scores), color="tab:orange", marker="o", label=metric)
        metric_axis.set_ylabel(metric, color="tab:orange")
    loss_axis.set_title("Training")
    save_figure(figure, path)
    return True


def per_type_scores(scores, path):
    """Grouped precision / recall / F1 bars for each entity type; scores: type -> {precision, recall, f1}."""
    types = sorted(scores)
    positions = np.arange(len(types))
    figure, axis = plt.subplots(figsize=(max(5, 1.3 * len(types)), 4))
    for offset, name in zip((-0.27, 0, 0.27), ("precision", "recall", "f1")):
        axis.bar(positions + offset, [scores[t][name] for t in types], width=0.27, label=name)
    axis.set_xticks(positions, types)
    axis.set_ylim(0, 1.05)
    axis.legend(loc="lower right")
    axis.set_title("Scores per entity type")
    save_figure(figure, path)


def confusion_matrix(gold, predicted, labels):
    """Counts[i][j]: examples of gold labels[i] predicted as labels[j]."""
    index = {label: i for i, label in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)), dtype=int)
    for truth, guess in zip(gold, predicted):
        counts[index[truth], index[guess]] += 1
    return counts


def confusion_chart(counts, labels, path, title):
    size = max(4, 0.6 * len(labels) + 2)
    figure, axis = plt.subplots(figsize=(size, size))
    axis.imshow(counts, cmap="Blues")
    axis.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axis.set_yticks(range(len(labels)), labels)
    axis.set_xlabel("predicted")
    axis.set_ylabel("gold")
    threshold = counts.max() / 2 if counts.size else 0
    for i in range(len(labels)):
        for j in range(len(labels)):
            axis.text(j, i, str(counts[i, j]), ha="center", va="center", color="white" if counts[i, j] > threshold else "black")
    axis.set_title(title)
    save_figure(figure, path)
