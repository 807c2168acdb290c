"""What a distilled folder says about its teacher (training/distillation.py records it in tunekit_args.json): how
the student was made, and the teacher's scores beside the student's, for the model card and report.html."""

import json
import os

from tunekit.folder import OutputFolder
from tunekit.outputs.html_parts import escaped, table
from tunekit.splits import TEACHER, shown_metrics

SHOWN = shown_metrics(TEACHER)
SPLITS = (("eval", "dev"), ("predict", "test"))


def how_distilled(about: dict) -> str:
    """One sentence: the teacher, the layers kept, the loss and the unlabelled text."""
    kept = about.get("kept_layers")
    layers = (f", keeping layers {', '.join(map(str, kept))} of its {about.get('teacher_layers')}" if kept else "")
    student = about.get("student") or "a student"
    made = f"{student}{layers}" if student != "the teacher's encoder" else f"the teacher's own network{layers}"
    targets = f"; a CRF teacher teaches its {about['crf_targets']}" if about.get("crf_targets") else ""
    text = f", with the unlabelled text of `{about['distill_text']}` labelled by the teacher alone" if about.get("distill_text") else ""
    return (f"Distilled from the teacher `{about.get('teacher')}` into {made}: the loss mixes the teacher's soft "
            f"labels (temperature {about.get('temperature')}, share {about.get('weight')}{targets}) with the gold "
            f"labels{text}.")


def teacher_rows(output_dir: str, about: dict) -> list:
    """(split metric, teacher, this model) for each score both have, as percentages."""
    path = OutputFolder(output_dir).all_results
    student = {}
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as stream:
            student = json.load(stream)
    teacher = about.get("teacher_results") or {}
    rows = []
    for prefix, split in SPLITS:
        for metric in SHOWN:
            key = f"{prefix}_{metric}"
            if key in teacher and key in student:
                rows.append((f"{split} {metric}", f"{100 * teacher[key]:.2f}", f"{100 * student[key]:.2f}"))
    return rows


def distillation_markdown(output_dir: str) -> str:
    """The card's section, or "" for a folder that was not distilled."""
    about = OutputFolder(output_dir).facts().get("distillation")
    if not about:
        return ""
    rows = "\n".join(f"| {name} | {teacher} | {student} |" for name, teacher, student in teacher_rows(output_dir, about))
    table = f"\n\n| score | teacher | this model |\n| --- | --- | --- |\n{rows}" if rows else ""
    return f"## Distillation\n\n{how_distilled(about)}{table}\n\n"


def distillation_html(output_dir: str) -> str:
    """report.html's section of a distilled folder: how it was made, the teacher's scores beside this model's;
    "" for a folder that was not distilled."""
    about = OutputFolder(output_dir).facts().get("distillation")
    if not about:
        return ""
    rows = teacher_rows(output_dir, about)
    return f"<p>{escaped(how_distilled(about))}</p>" + (table(["score", "teacher", "this model"], rows) if rows else "")
