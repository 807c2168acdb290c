"""report.html: one self-contained page per output folder, rendered in headless Chromium (Debian's package)."""

import json
import re

import pytest

from conftest import chromium_dom, run_program


def rendered(path) -> str:
    """The page's DOM after Chromium has loaded and laid it out from the file alone."""
    return chromium_dom(path.as_uri())


@pytest.mark.slow
@pytest.mark.chromium
def test_the_ner_report_shows_every_section_and_highlights_gold_and_predicted_entities(trained_ner):
    page = (trained_ner / "report.html").read_text(encoding="utf-8")
    # nothing is fetched: no address outside the page (the curves are an inline data: image)
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:|//)""", page)
    assert "data:image/png;base64," in page
    dom = rendered(trained_ner / "report.html")
    for section in ("configuration", "data", "curves", "results", "analysis"):
        assert f'id="{section}"' in dom, section
    assert "learning_rate" in dom and "scheme IOB2" in dom  # the resolved configuration and the data report
    assert 'id="per-type-eval"' in dom and 'id="confusion-predict"' in dom and 'id="errors-predict"' in dom
    interval = re.search(r"<td>f1</td><td>([0-9.]+)</td><td>([0-9.]+) – ([0-9.]+)</td>", dom)
    assert interval and float(interval.group(2)) <= float(interval.group(1)) <= float(interval.group(3))
    # the worst sentence's gold entities are highlighted with their type
    marks = re.findall(r'<mark class="entity" data-type="(\w+)"[^>]*>(.*?)<sub>', dom)
    assert marks, "no highlighted entity"
    worst = json.loads((trained_ner / "test_entity_errors.json").read_text())["worst_sentences"][0]
    gold = worst["gold"][0] if worst["gold"] else worst["predicted"][0]
    assert (gold["type"], gold["text"]) in {(kind, text) for kind, text in marks}


@pytest.mark.slow
@pytest.mark.chromium
def test_a_classification_report_has_a_confusion_matrix_of_labels(tiny_bert, tmp_path):
    rows = ["sentence\tlabel"] + [f"{word} film {i}\t{label}" for i in range(20)
                                  for word, label in (("good", "pos"), ("bad", "neg"))]
    for name in ("train.tsv", "dev.tsv"):
        (tmp_path / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    output = tmp_path / "out"
    result = run_program("run_glue.py", "--model_name_or_path", tiny_bert, "--data_dir", str(tmp_path),
                        "--output_dir", str(output), "--do_train", "--do_eval", "--max_steps", "2",
                        "--report_to", "none", "--save_strategy", "no")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = rendered(output / "report.html")
    assert 'id="confusion-eval"' in dom and "<b>pos</b>" in dom and "accuracy" in dom
    assert "95% interval" in dom and 'id="errors-' not in dom


@pytest.mark.slow
def test_a_later_evaluation_adds_to_the_reports_instead_of_replacing_them(trained_ner, tmp_path):
    """eval.sh (or a rerun) that scores dev alone keeps training's data-report row and overlap lines, the test
    section of report.html and the training figures, and shows its own dev scores."""
    from conftest import NER_SAMPLE
    from folders import copy_of

    folder = copy_of(trained_ner, tmp_path)
    before = json.loads((folder / "data_report.json").read_text())
    done = run_program("run_ner.py", "--model_name_or_path", str(folder), "--output_dir", str(folder),
                       "--data_dir", NER_SAMPLE, "--do_eval", "--max_eval_samples", "30", "--report_to", "none")
    assert done.returncode == 0, done.stderr[-2000:]
    after = json.loads((folder / "data_report.json").read_text())
    assert after["splits"]["train"] == before["splits"]["train"] and after["splits"]["test"] == before["splits"]["test"]
    assert after["splits"]["validation"]["examples"] == 30 != before["splits"]["validation"]["examples"]
    assert after["overlap"]["test"] == before["overlap"]["test"]
    assert "validation" not in after["overlap"]  # other dev examples: the old overlap no longer holds
    assert after["unseen_labels"]["validation"] == []  # found from training's label counts
    text = (folder / "data_report.txt").read_text()
    assert text.splitlines()[1].startswith("train") and "dev" in text and "test" in text
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "id='confusion-predict'" in page and "id='confusion-eval'" in page and "Training: loss" in page
    assert json.loads((folder / "eval_results.json").read_text())["eval_samples"] == 30
