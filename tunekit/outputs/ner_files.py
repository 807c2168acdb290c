"""The files a scored NER split leaves: seqeval's report, the error analysis, per-type and confusion charts,
predictions.txt."""

import json

from tunekit.folder import OutputFolder
from tunekit.evaluation.entity_errors import entity_errors
from tunekit.evaluation.ner_scorer import entity_report
from tunekit.files import atomic_write, chart_title
from tunekit.outputs.plots import confusion_chart, confusion_matrix, per_type_scores, word_types
from tunekit.evaluation.scored import Scored


def write_scored_split(output_dir: str, prefix: str, scored: Scored, data_args, words: list) -> None:
    """<eval|test>_classification_report.txt, _entity_errors.json, _entity_scores.png and _confusion_matrix.png of a
    split with gold; words: the tokens of each sentence (the error analysis shows the worst sentences)."""
    if not any(scored.gold):
        return
    name = "eval" if prefix == "eval" else "test"
    folder = OutputFolder(output_dir)
    atomic_write(folder.split_file(name, "classification_report.txt"),
                 entity_report(scored.gold, scored.predicted, data_args))
    analysis = scored.analysis if scored.analysis is not None else entity_errors(words, scored.gold, scored.predicted)
    atomic_write(folder.split_file(name, "entity_errors.json"),
                 json.dumps(analysis, indent=2, ensure_ascii=False) + "\n")
    per_type = {kind: values for kind, values in scored.details.items() if isinstance(values, dict)}
    if per_type:
        per_type_scores(per_type, folder.split_file(name, "entity_scores.png"),
                        chart_title(output_dir, prefix, "scores per entity type"))
    gold_types, predicted_types = word_types(scored.gold), word_types(scored.predicted)
    types = sorted(set(gold_types) | set(predicted_types), key=lambda t: (t == "O", t))
    counts = confusion_matrix(gold_types, predicted_types, types)
    confusion_chart(counts, types, folder.split_file(name, "confusion_matrix.png"),
                    chart_title(output_dir, prefix, "entity types per word"))


def conll_predictions(sentences, predicted_words: list) -> str:
    """`word gold predicted` per word (or `word predicted` without gold), a blank line between sentences."""
    lines = []
    for tokens, gold, predicted in zip(sentences["tokens"], sentences["tags"], predicted_words):
        for index, token in enumerate(tokens):
            lines.append(f"{token} {gold[index]} {predicted[index]}" if gold else f"{token} {predicted[index]}")
        lines.append("")
    return "\n".join(lines) + "\n"


def write_predictions(output_dir: str, sentences, predicted_words: list) -> None:
    atomic_write(OutputFolder(output_dir).predictions, conll_predictions(sentences, predicted_words))
