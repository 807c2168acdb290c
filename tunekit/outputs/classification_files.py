"""The files a scored classification split leaves: the confusion chart, predict_results_<task>.txt."""


from tunekit.folder import OutputFolder
from tunekit.data.problem_types import REGRESSION, SINGLE
from tunekit.encoding.classification import labels_and_probabilities
from tunekit.files import atomic_write, chart_title
from tunekit.outputs.plots import confusion_chart, confusion_matrix
from tunekit.evaluation.scored import Scored


def prediction_lines(logits, problem_type: str, id2label: dict, thresholds=None) -> list[str]:
    """predict_results_<task>.txt: index, predicted label name (or value), and the class probabilities
    (thresholds: a multi-label model's per-label thresholds, None for 0.5)."""
    if problem_type == REGRESSION:
        return ["index\tprediction"] + [f"{i}\t{value:.6f}" for i, value in enumerate(logits[:, 0])]
    names = [id2label[i] for i in range(logits.shape[1])]
    header = "index\tprediction\t" + "\t".join(f"prob_{name}" for name in names)
    rows = [
        f"{i}\t{','.join(chosen)}\t" + "\t".join(f"{p:.6f}" for p in row)
        for i, (chosen, row) in enumerate(labels_and_probabilities(logits, problem_type, names, thresholds))
    ]
    return [header] + rows


def write_predictions(output_dir: str, output_name: str, scored: Scored, problem_type: str, id2label: dict,
                      thresholds=None) -> None:
    lines = prediction_lines(scored.predicted, problem_type, id2label, thresholds)
    atomic_write(OutputFolder(output_dir).class_predictions(output_name), "\n".join(lines) + "\n")


def write_confusion(output_dir: str, prefix: str, scored: Scored, problem_type: str, config) -> None:
    """<prefix>_confusion_matrix.png of a single-label split with gold labels."""
    if problem_type != SINGLE or scored.details is None:
        return
    names = [config.id2label[i] for i in range(config.num_labels)]
    gold, predicted = ([names[i] for i in values.tolist()] for values in (scored.gold, scored.details))
    counts = confusion_matrix(gold, predicted, names)
    confusion_chart(counts, names, OutputFolder(output_dir).split_file(prefix, "confusion_matrix.png"),
                    chart_title(output_dir, prefix, "labels"))
