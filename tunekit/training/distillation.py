"""Learning from a teacher (--distill_from): the teacher folder loaded and checked against the student's data,
labels and tokenizer, and the terms it adds to the student's objective (training/objective.py).

The teacher runs on each training batch as the student sees it (same pieces, windows, packing), in evaluation
mode and without gradients, so every reading of the data the student trains on works unchanged. What its outputs
teach and how the student learns them is the heads' (training/soft_targets.py, chosen by the task); the
objective becomes (1 - w) x gold + w x soft, plus the matched layer outputs' distance with --distill_hidden_weight.
"""

import json
import logging
import os
from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch

from tunekit.errors import UserError
from tunekit.folder import OutputFolder
from tunekit.training.objective import Batch, TrainingObjective
from tunekit.training.soft_targets import SoftTargets

logger = logging.getLogger("tunekit")


@dataclass(frozen=True)
class TeacherFolder:
    """A trained folder of this suite that a student learns from: where it is, what it recorded and its scores."""

    path: str
    facts: dict
    results: dict

    @property
    def layers(self) -> int:
        with open(OutputFolder(self.path).model_config, encoding="utf-8") as stream:
            config = json.load(stream)
        return int(config.get("num_hidden_layers") or config.get("n_layers") or 0)


def settle_student_model(settings: Any) -> Any:
    """Without --model_name_or_path the student is cut from the teacher: it starts from the teacher's folder."""
    if settings.run.distill_from and not settings.model.model_name_or_path:
        return settings.with_changes(model={"model_name_or_path": settings.run.distill_from})
    return settings


def teacher_folder(path: str, task_name: str, task_of: Callable[[dict], Any]) -> TeacherFolder:
    """The --distill_from folder, checked: a model folder this suite trained, for this task (task_of(facts) reads a
    folder's task as the registry does)."""
    folder = OutputFolder(path)
    if not os.path.isdir(path):
        raise UserError(f"--distill_from {path}: no such folder")
    if not os.path.isfile(folder.model_config):
        raise UserError(f"--distill_from {path}: not a model folder (no config.json)")
    facts = folder.facts()
    if not facts:
        raise UserError(f"--distill_from {path}: not a folder this suite trained (no {os.path.basename(folder.run_arguments)}); "
                        "a teacher must be trained here, so that the student reads the data as it did")
    teacher_task = task_of(facts).name
    if teacher_task != task_name:
        raise UserError(f"--distill_from {path}: a {teacher_task} model, and this run trains {task_name}; distil from a "
                        f"folder of the same task")
    results = {}
    if os.path.isfile(folder.all_results):
        with open(folder.all_results, encoding="utf-8") as stream:
            results = json.load(stream)
    return TeacherFolder(path, facts, results)


def load_teacher(teacher: TeacherFolder, model_class: Callable[[Any], Any], attention: str = "auto") -> Any:
    """The teacher's model as it was saved (its head: softmax, CRF, BiLSTM, pooling), in evaluation mode, frozen,
    with the attention the run settled for the student (eager on CPU: faster for short sequences)."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(teacher.path)
    options = {"attn_implementation": attention} if attention != "auto" else {}
    model = model_class(config).from_pretrained(teacher.path, **options)
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


def check_tokenizer(teacher_path: str, student_tokenizer, student_name: str) -> None:
    """The student must read the teacher's word pieces: the same vocabulary and the same pieces for a probe text."""
    from transformers import AutoTokenizer

    teacher_tokenizer = AutoTokenizer.from_pretrained(teacher_path)
    probe = "Anna Brandt visited Oslo on Tuesday, 3 May: naïve café résumé ÉCOLE."
    same = (teacher_tokenizer.get_vocab() == student_tokenizer.get_vocab()
            and teacher_tokenizer(probe)["input_ids"] == student_tokenizer(probe)["input_ids"])
    if not same:
        raise UserError(f"--distill_from {teacher_path}: the student {student_name} has another tokenizer "
                        f"({type(student_tokenizer).__name__}, {len(student_tokenizer)} pieces) than the teacher "
                        f"({type(teacher_tokenizer).__name__}, {len(teacher_tokenizer)} pieces); the student must read "
                        "the teacher's word pieces: leave out --model_name_or_path to cut the student from the teacher")


def label_columns(teacher_config, student_config, teacher_path: str, labelled: bool) -> Optional[list]:
    """For each student label id, the teacher's output column; None when they are the same or the outputs are
    values. Other label sets: an error naming the labels that differ."""
    if not labelled:
        return None
    teacher_labels = dict(teacher_config.label2id or {})
    student_labels = dict(student_config.label2id or {})
    if set(teacher_labels) != set(student_labels):
        only_data = sorted(set(student_labels) - set(teacher_labels))
        only_teacher = sorted(set(teacher_labels) - set(student_labels))
        parts = ([f"the data has {', '.join(only_data)}, which the teacher does not know"] if only_data else []) + (
            [f"the teacher knows {', '.join(only_teacher)}, which the data lacks"] if only_teacher else [])
        raise UserError(f"--distill_from {teacher_path}: other labels than the data: {'; '.join(parts)}")
    columns = [teacher_labels[label] for label, _ in sorted(student_labels.items(), key=lambda item: item[1])]
    return None if columns == list(range(len(columns))) else columns


class SoftTargetTerm:
    """The student's distance to the teacher's softened outputs on the batch (an objective term)."""

    def __init__(self, teacher: Any, teacher_side: SoftTargets, student_side: SoftTargets, temperature: float,
                 columns: Optional[list] = None):
        self.teacher = teacher
        self.teacher_side = teacher_side
        self.student_side = student_side
        self.temperature = temperature
        self.columns = columns

    def teacher_targets(self, inputs: dict) -> torch.Tensor:
        """The teacher's softened outputs for the batch, in the student's label order."""
        device = inputs["input_ids"].device
        if next(self.teacher.parameters()).device != device:
            self.teacher.to(device)
        with torch.no_grad():
            targets = self.teacher_side.targets(self.teacher, inputs, self.temperature)
        return targets[..., self.columns] if self.columns is not None else targets

    def __call__(self, batch: Batch) -> torch.Tensor:
        return self.student_side.loss(batch, self.teacher_targets(batch.inputs), self.temperature)


class HiddenTerm:
    """--distill_hidden_weight: the matched layer outputs' distance (hidden_matching.py), its weight inside."""

    def __init__(self, matching: Any):
        self.matching = matching

    def __call__(self, batch: Batch) -> torch.Tensor:
        return batch.scale.of_mean(self.matching.loss(batch.attention_mask))


def scores_of(results: dict) -> dict:
    """A folder's scores from its all_results.json: dev and test metrics, without intervals, counts or timings."""
    skipped = ("_ci_", "runtime", "per_second", "errors", "samples", "loss", "span_")
    return {key: value for key, value in results.items()
            if key.startswith(("eval_", "predict_")) and not any(part in key for part in skipped)}


def describe(teacher: TeacherFolder, kept: Optional[list], teacher_layers: int, student_name: str,
             run_args) -> dict:
    """What tunekit_args.json, the card and report.html say about the teacher."""
    return {
        "teacher": os.path.abspath(teacher.path),
        "teacher_base_model": teacher.facts.get("base_model"),
        "teacher_layers": teacher_layers,
        "student": student_name,
        "kept_layers": kept,
        "temperature": run_args.distill_temperature,
        "weight": run_args.distill_weight,
        "crf_targets": run_args.distill_crf_targets,
        "hidden_weight": run_args.distill_hidden_weight,
        "distill_text": os.path.abspath(run_args.distill_text) if run_args.distill_text else None,
        "teacher_results": scores_of(teacher.results),
    }


def cut_student(student: torch.nn.Module, settings) -> tuple:
    """(the model cut to --student_layers, the layers it kept or None): a student cut from its teacher keeps half
    the teacher's layers unless told otherwise; any other model is cut only when --student_layers is given."""
    from tunekit.modeling.student import cut_layers, kept_layers, layer_count

    run_args, model_args = settings.run, settings.model
    from_teacher = bool(run_args.distill_from) and same_path(model_args.model_name_or_path, run_args.distill_from)
    if not from_teacher and run_args.student_layers is None:
        return student, None
    name = model_args.model_name_or_path or "the default model"
    where = f"the teacher {run_args.distill_from}" if from_teacher else name
    kept = kept_layers(run_args.student_layers, layer_count(student.config), where)
    return cut_layers(student, kept), kept


def same_path(first: Optional[str], second: Optional[str]) -> bool:
    return bool(first and second) and os.path.abspath(first or "") == os.path.abspath(second or "")


def with_teacher(student: torch.nn.Module, kept: Optional[list], tokenizer, settings, task_name: str,
                 task_of: Callable[[dict], Any], soft_targets: Callable[[Any], Optional[SoftTargets]],
                 model_class: Optional[Callable[[Any], Any]], objective: TrainingObjective) -> tuple:
    """(the student's objective with the teacher's terms, what the folder records about the teacher), checked
    against the data and the student: one UserError naming the problem otherwise. soft_targets(model) is the
    task's: what a model of its teaches and learns (None: the task cannot be distilled)."""
    run_args, model_args = settings.run, settings.model
    student_side = soft_targets(student)
    if student_side is None or model_class is None:
        raise UserError(f"--distill_from: {task_name} models cannot be distilled (the task gives no soft targets)")
    teacher = teacher_folder(run_args.distill_from, task_name, task_of)
    from_teacher = same_path(model_args.model_name_or_path, teacher.path)
    student_name = "the teacher's encoder" if from_teacher else (model_args.model_name_or_path or "the default model")
    if not from_teacher:
        check_tokenizer(teacher.path, tokenizer, student_name)
    teacher_model = load_teacher(teacher, model_class, model_args.attn_implementation)
    teacher_side = soft_targets(teacher_model)
    if teacher_side is None:
        raise UserError(f"--distill_from {teacher.path}: its model gives no soft targets")
    columns = label_columns(teacher_model.config, student.config, teacher.path, teacher_side.labelled)
    logger.info("Distilling %s into %s: temperature %g, the teacher's share of the loss %g, its %s", teacher.path,
                student_name, run_args.distill_temperature, run_args.distill_weight, type(teacher_side).__name__)
    weight = run_args.distill_weight
    objective = objective.with_term(weight, SoftTargetTerm(teacher_model, teacher_side, student_side,
                                                           run_args.distill_temperature, columns), 1 - weight)
    if run_args.distill_hidden_weight:
        from tunekit.training.hidden_matching import HiddenMatching

        matching = HiddenMatching(student, teacher_model, kept if from_teacher else None, run_args.distill_hidden_weight)
        objective = objective.with_term(1.0, HiddenTerm(matching))
    return objective, describe(teacher, kept, teacher_model.config.num_hidden_layers, student_name, run_args)
