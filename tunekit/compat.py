"""Every private name of transformers, accelerate, torch and uvicorn that tunekit relies on, reached through this module.

A minor release may rename or drop any of them. PRIVATE_NAMES lists each one with the technique that needs it;
tests/test_compat.py checks that every one still exists with the parameters the code passes, and at run time
the speed switch (training/speed/switch.py) asks `missing(technique)` first: a technique whose names are gone
turns itself off with one warning, and the run trains at Trainer's own speed instead of failing halfway.
Names are looked up when asked for (not bound at import), so a test can hide one with monkeypatch.
"""

import importlib
import inspect
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from tunekit.errors import UserError

if TYPE_CHECKING:
    import datasets

logger = logging.getLogger("tunekit")


@dataclass(frozen=True)
class PrivateName:
    """One private attribute: `owner` (a module, or module:Class), its `name`, the parameters the code passes
    (None for a value), and the technique that needs it."""

    owner: str
    name: str
    parameters: tuple | None
    technique: str


PRIVATE_NAMES = (
    PrivateName("transformers.trainer:Trainer", "_clip_grad_norm", ("model",), "fold_clipping"),
    PrivateName("torch.optim.adam", "_fused_adam", ("grad_scale", "found_inf"), "fold_clipping"),
    PrivateName("transformers.trainer:Trainer", "_get_eval_sampler", ("eval_dataset",), "sorted_evaluation"),
    PrivateName("transformers.trainer:Trainer", "_remove_unused_columns", ("dataset", "description"), "length_buckets"),
    PrivateName("transformers.trainer_utils", "seed_worker", ("worker_id", "num_workers", "rank"), "length_buckets"),
    # the columns Trainer keeps in its training data (the model's forward's): row attributes join them
    PrivateName("transformers.trainer:Trainer", "_set_signature_columns_if_needed", (), "row_attributes"),
    PrivateName("transformers.trainer:Trainer", "_signature_columns", None, "row_attributes"),
    PrivateName("transformers.configuration_utils:PretrainedConfig", "_attn_implementation", None, "attention"),
    PrivateName("transformers.masking_utils", "AttentionMaskInterface", None, "attention_dropout"),
    PrivateName("transformers.masking_utils", "eager_mask", ("batch_size", "q_length", "kv_length"), "attention_dropout"),
    PrivateName("transformers.masking_utils", "sdpa_mask", ("batch_size", "q_length", "kv_length"), "attention_dropout"),
    PrivateName(
        "transformers.integrations.sdpa_attention", "sdpa_attention_forward",
        ("module", "query", "key", "value", "attention_mask", "dropout", "scaling"), "attention_dropout",
    ),
    PrivateName("torch.cpu", "_is_avx512_bf16_supported", (), "native_bf16"),
    PrivateName("torch.cpu", "_is_amx_tile_supported", (), "native_bf16"),
    # the server's header deadline (serving/protocol.py) reads uvicorn's h11 connection and current request
    PrivateName("uvicorn.protocols.http.h11_impl:H11Protocol", "conn", None, "header_timeout"),
    PrivateName("uvicorn.protocols.http.h11_impl:H11Protocol", "cycle", None, "header_timeout"),
    PrivateName("uvicorn.protocols.http.h11_impl:H11Protocol", "loop", None, "header_timeout"),
    PrivateName("uvicorn.protocols.http.h11_impl:H11Protocol", "send_400_response", ("msg",), "header_timeout"),
)
# Attributes Trainer and accelerate set on their instances while training (checked by the contract test on a
# real Trainer): the accumulation steps of the current optimizer step, the batch size Trainer settled on
# (--auto_find_batch_size may lower it), and accelerate's GradScaler (fp16).
INSTANCE_ATTRIBUTES = {
    "Trainer": ("current_gradient_accumulation_steps", "_train_batch_size"),
    "Accelerator": ("scaler",),
    # a Dataset's cache key, from which our encoding's key is made (encoding/splits.py)
    "Dataset": ("_fingerprint",),
}
# Logger names of transformers' model loading, quieted while loading (the tensor-parallel module moved from
# integrations/ to distributed/ in 5.2x): a name that no longer exists just quiets nothing.
LOADING_LOGGERS = (
    "transformers.modeling_utils", "transformers.distributed.tensor_parallel", "transformers.integrations.tensor_parallel",
)
_warned: set = set()


def lookup(owner: str, name: str) -> Any:
    """The attribute, or None where the module, class or attribute is gone."""
    module_name, _, class_name = owner.partition(":")
    target: Any
    try:
        target = importlib.import_module(module_name)
    except ImportError:
        return None
    if class_name:
        target = getattr(target, class_name, None)
    if target is None:
        return None
    value = getattr(target, name, None)
    if value is None and class_name:  # an attribute set on instances (config._attn_implementation): in the source?
        return name if f"self.{name}" in _class_source(target) else None
    return value


def _class_source(cls) -> str:
    try:
        return "".join(inspect.getsource(klass) for klass in cls.__mro__ if klass.__module__.startswith(cls.__module__.split(".")[0]))
    except (OSError, TypeError):
        return ""


def problem(entry: PrivateName) -> str | None:
    """Why the entry no longer fits (gone, or without a parameter the code passes); None when it fits."""
    found = lookup(entry.owner, entry.name)
    where = f"{entry.owner.replace(':', '.')}.{entry.name}"
    if found is None:
        return f"{where} is gone"
    if entry.parameters and callable(found):
        try:
            parameters = inspect.signature(found).parameters
        except (TypeError, ValueError):
            return None
        absent = [name for name in entry.parameters if name not in parameters]
        if absent and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            return f"{where} takes no {absent[0]}"
    return None


def missing(technique: str) -> list[str]:
    """The problems of every private name the technique needs (empty: it can run)."""
    return [found for entry in PRIVATE_NAMES if entry.technique == technique for found in [problem(entry)] if found]


def available(technique: str) -> bool:
    """Whether the technique's private names are all there; warns once per technique when not."""
    problems = missing(technique)
    if problems and technique not in _warned:
        _warned.add(technique)
        logger.warning(
            "%s is off: %s in this transformers/torch release (training goes on at Trainer's own speed)",
            technique.replace("_", " "), "; ".join(problems),
        )
    return not problems


# The accessors the rest of the package calls, each falling back to what Trainer itself would do.


def seed_worker() -> 'Callable | None':
    """transformers' DataLoader worker seeding function, or None (then workers are not re-seeded)."""
    return lookup("transformers.trainer_utils", "seed_worker")


def attention_of(config) -> str | None:
    """The attention implementation a loaded model runs (config._attn_implementation), or None if unknown."""
    return getattr(config, "_attn_implementation", None)


def accumulation_steps(trainer) -> int:
    """Batches in the current optimizer step (Trainer's count, smaller in an epoch's last step)."""
    return getattr(trainer, "current_gradient_accumulation_steps", trainer.args.gradient_accumulation_steps)


def train_batch_size(trainer) -> int:
    """Rows per training batch that Trainer settled on (--auto_find_batch_size may have lowered it)."""
    return getattr(trainer, "_train_batch_size", None) or trainer.args.per_device_train_batch_size


def grad_scaler(accelerator) -> object:
    """accelerate's GradScaler (fp16), or None."""
    return getattr(accelerator, "scaler", None)


def dataset_fingerprint(dataset) -> 'str | None':
    """The cache key datasets gives a Dataset (what it was made from and how), None where it is gone."""
    return getattr(dataset, "_fingerprint", None)


def remove_unused_columns(trainer, dataset, description: str) -> 'datasets.Dataset':
    """The dataset without the columns the model's forward does not take, as Trainer prepares its own loaders."""
    return trainer._remove_unused_columns(dataset, description=description)


def keep_columns(trainer, names: tuple, dataset) -> None:
    """Make Trainer keep `names` in its training data beside the columns its model's forward takes (the row
    attributes that the objective takes out of each batch); a one-line error where this release cannot and the
    data has them."""
    present = [name for name in names if name in (getattr(dataset, "column_names", None) or ())]
    if not present:
        return
    problems = missing("row_attributes")
    if problems:
        raise UserError(f"the training rows' {', '.join(present)} cannot reach the loss: {'; '.join(problems)} in this "
                        "transformers release")
    trainer._set_signature_columns_if_needed()
    trainer._signature_columns = list(dict.fromkeys([*trainer._signature_columns, *present]))


def cpu_native_bf16() -> bool | None:
    """Whether this CPU has AVX512-BF16 or AMX (torch's own checks); None when torch no longer says."""
    checks = [lookup("torch.cpu", name) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    checks = [check for check in checks if check is not None]
    if not checks:
        available("native_bf16")  # the one warning: --precision auto then trains in fp32
        return None
    return any(check() for check in checks if callable(check))


def attention_internals() -> tuple:
    """(AttentionMaskInterface, eager_mask, sdpa_mask, sdpa_attention_forward) for fast attention dropout."""
    return tuple(lookup(owner, name) for owner, name in (
        ("transformers.masking_utils", "AttentionMaskInterface"), ("transformers.masking_utils", "eager_mask"),
        ("transformers.masking_utils", "sdpa_mask"), ("transformers.integrations.sdpa_attention", "sdpa_attention_forward"),
    ))


def set_step_grad_scale(optimizer, scale) -> None:
    """Hand the fused Adam/AdamW step a divisor for every gradient (the attribute its step reads, as GradScaler does)."""
    optimizer.grad_scale = scale


def uses_grad_scaler(optimizer) -> bool:
    """Whether a GradScaler already drives the optimizer's grad_scale/found_inf attributes."""
    return getattr(optimizer, "found_inf", None) is not None


def uvicorn_connection(protocol) -> tuple:
    """(h11 connection, current request cycle or None) of uvicorn's H11Protocol."""
    return protocol.conn, protocol.cycle
