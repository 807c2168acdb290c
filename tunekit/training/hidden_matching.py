"""--distill_hidden_weight: the student's layer outputs pulled towards the teacher's (TinyBERT-style intermediate
distillation). Student layer i is matched with teacher layer mapping[i]: the layer it was cut from, or for another
student of the same width, the teacher layer at the same relative depth. Forward hooks on both encoders' layer
lists capture the outputs of the forward passes the loss already makes, so no model is run twice."""

from typing import Any, Callable

import torch

from tunekit.errors import UserError
from tunekit.modeling.student import layer_count, layer_list_of


def uniform_mapping(student_layers: int, teacher_layers: int) -> list[int]:
    """Student layer i -> the teacher layer at the same relative depth (the last matches the last)."""
    return [round((i + 1) * teacher_layers / student_layers) - 1 for i in range(student_layers)]


class HiddenStates:
    """Captures each encoder layer's output of the last forward pass of a model (in training mode for a student)."""

    def __init__(self, model: Any, only_training: bool):
        parent, attribute = layer_list_of(model, layer_count(model.config))
        self.outputs: dict = {}
        self.model = model
        self.only_training = only_training
        for index, layer in enumerate(getattr(parent, attribute)):
            layer.register_forward_hook(self.hook(index))

    def hook(self, index: int) -> "Callable[..., None]":
        def keep(module, inputs, output):
            if self.only_training and not self.model.training:
                return
            self.outputs[index] = output[0] if isinstance(output, (tuple, list)) else output
        return keep

    def taken(self) -> dict:
        outputs, self.outputs = self.outputs, {}
        return outputs


class HiddenMatching:
    """The mean squared distance between matched layer outputs over the attended positions, times the weight."""

    def __init__(self, student: Any, teacher: Any, kept: list | None, weight: float):
        student_width, teacher_width = student.config.hidden_size, teacher.config.hidden_size
        if student_width != teacher_width:
            raise UserError(f"--distill_hidden_weight matches layer outputs, and the student's are {student_width} wide "
                            f"where the teacher's are {teacher_width}: leave it out for this student")
        self.mapping = kept or uniform_mapping(layer_count(student.config), layer_count(teacher.config))
        self.weight = weight
        self.student = HiddenStates(student, only_training=True)
        self.teacher = HiddenStates(teacher, only_training=False)

    def loss(self, attention_mask: torch.Tensor) -> torch.Tensor:
        student, teacher = self.student.taken(), self.teacher.taken()
        mask = attention_mask.bool().unsqueeze(-1)
        distances = []
        for index, source in enumerate(self.mapping):
            if index in student and source in teacher:
                difference = (student[index].float() - teacher[source].float()) ** 2
                distances.append(difference.masked_select(mask).mean())
        if not distances:
            raise RuntimeError("no layer outputs were captured for --distill_hidden_weight")
        return self.weight * torch.stack(distances).mean()
