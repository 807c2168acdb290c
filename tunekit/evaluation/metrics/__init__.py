"""Metrics shipped as local `evaluate` modules, so that scoring never needs the Hub."""

import os

import evaluate

METRICS_DIR = os.path.dirname(os.path.abspath(__file__))


def load_local_metric(name, **kwargs):
    """Load the evaluate module in tunekit/metrics/<name>/ (never fetched from the Hub)."""
    return evaluate.load(os.path.join(METRICS_DIR, name), **kwargs)
