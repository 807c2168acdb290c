"""Swapping submodules of a model in place (the speed path's dropout and embedding replacements)."""

from torch import nn


def replace_modules(model: nn.Module, replacement) -> int:
    """Put replacement(child) in place of every submodule for which it returns a module (the new ones are not
    visited); returns how many were replaced."""
    replaced = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            new = replacement(child)
            if new is not None:
                setattr(parent, name, new)
                replaced += 1
    return replaced
