"""Learning from a teacher (--distill_from): the teacher folder loaded and checked against the student's data,
labels and tokenizer, and the loss that mixes its soft predictions with the gold labels.

The teacher runs on each training batch as the student sees it (same pieces, windows, packing), in evaluation
mode and without gradients, so every reading of the data the student trains on works unchanged. Its targets
are softened by a temperature T: token or class probabilities softmax(z / T); for a CRF teacher each token's
marginals under the CRF (forward-backward over emissions and transitions, all divided by T) or its emission
softmax; sigmoids for multi-label; the predicted values for regression. The student matches them with a KL
divergence (a CRF student with its own marginals), multiplied by T^2 (Hinton et al.: the gradients then keep
their size whatever T), and the loss is (1 - w) x gold + w x soft.
"""

import json
import logging
import os
from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch
import torch.nn.functional as F

from tunekit.encoding import IGNORE_INDEX, UNLABELLED
from tunekit.errors import UserError
from tunekit.folder import OutputFolder

logger = logging.getLogger("tunekit")

# What a teacher's outputs are: one distribution per token, per example, several labels per example, or values.
TOKENS, ONE_LABEL, SEVERAL_LABELS, VALUES = "tokens", "one label", "several labels", "values"


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


def label_columns(teacher_config, student_config, teacher_path: str, kind: str) -> Optional[list]:
    """For each student label id, the teacher's output column; None when they are the same. Other label sets: an
    error naming the labels that differ."""
    if kind == VALUES:
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


class Distillation:
    """The soft part of a student's loss (TunekitTrainer.compute_loss calls it on training batches)."""

    def __init__(self, teacher: Any, kind: str, temperature: float, weight: float, crf_targets: str,
                 columns: Optional[list] = None, hidden: Optional[Any] = None):
        self.teacher = teacher
        self.hidden = hidden  # hidden_matching.HiddenMatching, with --distill_hidden_weight
        self.kind = kind
        self.temperature = temperature
        self.weight = weight
        self.crf_targets = crf_targets
        self.columns = columns

    @staticmethod
    def gold_inputs(inputs: dict) -> dict:
        """The batch with the positions only the teacher labels hidden from the gold loss."""
        labels = inputs.get("labels")
        if labels is None or not bool((labels == UNLABELLED).any()):
            return inputs
        return {**inputs, "labels": labels.masked_fill(labels == UNLABELLED, IGNORE_INDEX)}

    @staticmethod
    def has_gold(gold_inputs: dict) -> bool:
        """Whether the batch (from gold_inputs) holds any gold label."""
        labels = gold_inputs.get("labels")
        return labels is None or bool((labels != IGNORE_INDEX).any())

    def teacher_targets(self, inputs: dict) -> torch.Tensor:
        """The teacher's softened outputs for the batch: probabilities (values for regression), in student order."""
        teacher = self.teacher
        device = inputs["input_ids"].device
        if next(teacher.parameters()).device != device:
            teacher.to(device)
        model_inputs = {key: value for key, value in inputs.items() if key != "labels"}
        temperature = self.temperature
        with torch.no_grad():
            crf = getattr(teacher, "crf", None)
            if crf is not None:
                emissions = teacher.tagger(**model_inputs).logits.float()
                if self.crf_targets == "marginals":
                    targets = crf.log_marginals(emissions, attention_mask_of(inputs), temperature).exp()
                else:
                    targets = torch.softmax(emissions / temperature, dim=-1)
            else:
                logits = teacher(**model_inputs).logits.float()
                if self.kind == VALUES:
                    targets = logits
                elif self.kind == SEVERAL_LABELS:
                    targets = torch.sigmoid(logits / temperature)
                else:
                    targets = torch.softmax(logits / temperature, dim=-1)
        return targets[..., self.columns] if self.columns is not None else targets

    def student_log_probabilities(self, student: torch.nn.Module, logits: torch.Tensor, inputs: dict) -> torch.Tensor:
        crf = getattr(student, "crf", None)
        if crf is not None:  # in training the CRF returns its emissions; it learns its marginals
            return crf.log_marginals(logits.float(), attention_mask_of(inputs), self.temperature)
        return F.log_softmax(logits.float() / self.temperature, dim=-1)

    def soft_loss(self, student: torch.nn.Module, logits: torch.Tensor, inputs: dict,
                  num_items_in_batch: Optional[Any], per_step: bool, accumulation: int) -> torch.Tensor:
        """The student's distance to the teacher on this batch, normalised as its gold loss is: per predicted token
        of the optimizer step (num_items_in_batch) or of the batch, per sequence for a CRF, per example for
        classifiers; per_step says the gold loss is already divided over the accumulated batches."""
        targets = self.teacher_targets(inputs)
        squared = self.temperature ** 2
        if self.kind == VALUES:
            return F.mse_loss(logits.float().reshape(targets.shape), targets) / (accumulation if per_step else 1)
        if self.kind == SEVERAL_LABELS:
            loss = F.binary_cross_entropy_with_logits(logits.float() / self.temperature, targets) * squared
            return loss / (accumulation if per_step else 1)
        log_student = self.student_log_probabilities(student, logits, inputs)
        divergence = (targets * (torch.log(targets.clamp_min(1e-12)) - log_student)).sum(-1)  # KL per item
        if self.kind == ONE_LABEL:
            return divergence.mean() * squared / (accumulation if per_step else 1)
        predicted = inputs["labels"] != IGNORE_INDEX
        total = divergence[predicted].sum() * squared
        if getattr(student, "crf", None) is not None:  # its gold loss is a mean over sequences
            return total / predicted.shape[0] / (accumulation if per_step else 1)
        if per_step and num_items_in_batch is not None:
            return total / num_items_in_batch
        return total / predicted.sum().clamp_min(1)

    def mixed(self, gold: torch.Tensor, soft: torch.Tensor, inputs: dict, per_step: bool, accumulation: int) -> torch.Tensor:
        """(1 - w) x gold + w x soft, plus the matched layer outputs' distance with --distill_hidden_weight."""
        loss = (1 - self.weight) * gold + self.weight * soft
        if self.hidden is not None:
            loss = loss + self.hidden.loss(attention_mask_of(inputs)) / (accumulation if per_step else 1)
        return loss


def attention_mask_of(inputs: dict) -> torch.Tensor:
    mask = inputs.get("attention_mask")
    if mask is None:
        return torch.ones_like(inputs["input_ids"], dtype=torch.bool)
    return mask.bool() if mask.dim() == 2 else torch.ones_like(inputs["input_ids"], dtype=torch.bool)


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
                 task_of: Callable[[dict], Any], model_class: Callable[[Any], Any], kind: Optional[str]) -> tuple:
    """(the student's Distillation, what the folder records about the teacher), checked against the data and the
    student: one UserError naming the problem otherwise."""
    run_args, model_args = settings.run, settings.model
    if kind is None:
        raise UserError(f"--distill_from: {task_name} models cannot be distilled (the task gives no soft targets)")
    teacher = teacher_folder(run_args.distill_from, task_name, task_of)
    from_teacher = same_path(model_args.model_name_or_path, teacher.path)
    student_name = "the teacher's encoder" if from_teacher else (model_args.model_name_or_path or "the default model")
    if not from_teacher:
        check_tokenizer(teacher.path, tokenizer, student_name)
    teacher_model = load_teacher(teacher, model_class, model_args.attn_implementation)
    columns = label_columns(teacher_model.config, student.config, teacher.path, kind)
    crf = getattr(teacher_model, "crf", None) is not None
    logger.info("Distilling %s into %s: temperature %g, the teacher's share of the loss %g%s", teacher.path,
                student_name, run_args.distill_temperature, run_args.distill_weight,
                f", a CRF teacher's {run_args.distill_crf_targets}" if crf else "")
    hidden = None
    if run_args.distill_hidden_weight:
        from tunekit.training.hidden_matching import HiddenMatching

        hidden = HiddenMatching(student, teacher_model, kept if from_teacher else None, run_args.distill_hidden_weight)
    distillation = Distillation(teacher_model, kind, run_args.distill_temperature, run_args.distill_weight,
                                run_args.distill_crf_targets, columns, hidden)
    return distillation, describe(teacher, kept, teacher_model.config.num_hidden_layers, student_name, run_args)
