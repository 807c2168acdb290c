"""The charts read at a glance: errors visible beside a huge O cell, values on cells and bars, split and run named."""

import numpy as np

from tunekit.files import chart_title
from tunekit.outputs.plots import confusion_figure, per_type_scores_figure, training_curves_figure


def test_confusion_colours_are_shares_of_each_gold_row_with_a_colour_bar():
    counts = np.array([[40000, 12, 3], [20, 180, 0], [5, 0, 95]])
    figure = confusion_figure(counts, ["O", "PER", "LOC"], chart_title("outputs/conll", "eval", "entity types per word"))
    axis, colour_bar = figure.axes
    assert colour_bar.get_ylabel() == "share of the gold row"
    shares = axis.images[0].get_array()
    np.testing.assert_allclose(np.asarray(shares).sum(axis=1), 1.0)
    assert shares[1, 0] == 0.1  # 20 of 200 PER words: visible, not washed out by the 40,000 O cell
    texts = {text.get_text() for text in axis.texts}
    assert "20\n10%" in texts and "40000\n100%" in texts
    assert axis.get_title() == "conll, dev: entity types per word"


def test_entity_scores_show_their_values_and_a_legend_that_hides_no_bar():
    scores = {t: {"precision": 0.91, "recall": 0.85, "f1": 0.88} for t in ("LOC", "MISC", "ORG", "PER")}
    figure = per_type_scores_figure(scores, chart_title("out", "predict", "scores per entity type"))
    axis = figure.axes[0]
    assert sum(text.get_text() == "0.88" for text in axis.texts) == 4
    figure.canvas.draw()
    legend, plot = axis.get_legend().get_window_extent(), axis.get_window_extent()
    assert legend.y0 >= plot.y1 - 1  # above the plot area
    assert axis.get_title() == "out, test: scores per entity type"


def test_a_short_curve_shows_its_points_and_values():
    history = [{"step": 10, "loss": 1.2}, {"step": 20, "loss": 0.6}, {"step": 20, "eval_f1": 0.71},
               {"step": 30, "loss": 0.4}]
    figure = training_curves_figure(history, "eval_f1", "ner_sample")
    loss_axis, metric_axis = figure.axes
    assert loss_axis.lines[0].get_marker() == "o"
    assert {text.get_text() for text in loss_axis.texts} == {"1.2", "0.6", "0.4"}
    assert metric_axis.get_ylabel() == "dev f1" and loss_axis.get_title() == "ner_sample: training"
    long_history = [{"step": i, "loss": 1 / i} for i in range(1, 100)]
    assert len(training_curves_figure(long_history, "eval_f1", "x").axes[0].texts) == 0
