"""What a scorer returns for one evaluated split."""

from typing import Any, NamedTuple, Optional, Protocol


class Scored(NamedTuple):
    """What a scorer returns for one split: the metrics, and what it predicted (and the gold it compared with),
    for the writers; analysis: the scorer's error analysis of the split (NER's: evaluation/entity_errors.py) and
    analysis_line, its line in the closing summary; decided: what scoring this split decided that later splits and
    the writers use (multi-label thresholds tuned on dev)."""

    metrics: dict
    predicted: Any
    gold: Any = None
    details: Any = None
    analysis: Any = None
    decided: Any = None
    analysis_line: Optional[str] = None


class Scorer(Protocol):
    """Scores one split: score(EvalPrediction) -> Scored; statistics(Scored) -> its figures per example, for the
    bootstrap intervals (evaluation/intervals.py). Its optional parts are declared, never probed for, with the
    defaults of a scorer that subclasses this one and has none: error_analysis (None: it has none) with the figures
    it adds to the results, and parts (each corpus of a split scored on its own)."""

    def score(self, prediction: Any) -> Scored: ...

    def statistics(self, scored: Scored) -> Any: ...

    def error_analysis(self, scored: Scored) -> Any:
        return None

    def analysis_metrics(self, analysis: Any) -> dict:
        return {}

    def analysis_line(self, analysis: Any) -> Optional[str]:
        """The error analysis in a line of the closing summary (None: no line)."""
        return None

    def parts(self, scored: Scored) -> list:
        """(name, its scorer, its Scored) for each part of the split scored on its own."""
        return []
