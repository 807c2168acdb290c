"""Evaluation: local metric modules, the task scorers, evaluating splits and saved folders."""
