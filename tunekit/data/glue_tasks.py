"""The GLUE tasks: where each one's text and label live in the original TSV files and on the Hub."""

from dataclasses import dataclass
from typing import Optional, Tuple


@dataclass(frozen=True)
class GlueTask:
    text_columns: Tuple[str, ...]  # in the GLUE train/dev TSV files (names, or indices when there is no header)
    label_column: str
    has_header: bool
    hub_text_columns: Tuple[str, ...]
    test_text_columns: Optional[Tuple[str, ...]] = None  # GLUE test.tsv files have their own header
    regression: bool = False
    dev_files: Tuple[Tuple[str, str], ...] = (("validation", "dev.tsv"),)


PAIR = ("sentence1", "sentence2")
GLUE_TASKS = {
    "cola": GlueTask(("3",), "1", False, ("sentence",), test_text_columns=("sentence",)),
    "sst2": GlueTask(("sentence",), "label", True, ("sentence",)),
    "mrpc": GlueTask(("#1 String", "#2 String"), "Quality", True, PAIR),
    "qqp": GlueTask(("question1", "question2"), "is_duplicate", True, ("question1", "question2")),
    "stsb": GlueTask(PAIR, "score", True, PAIR, regression=True),
    "mnli": GlueTask(
        PAIR,
        "gold_label",
        True,
        ("premise", "hypothesis"),
        dev_files=(("validation", "dev_matched.tsv"), ("validation_mismatched", "dev_mismatched.tsv")),
    ),
    "qnli": GlueTask(("question", "sentence"), "label", True, ("question", "sentence")),
    "rte": GlueTask(PAIR, "label", True, PAIR),
    "wnli": GlueTask(PAIR, "label", True, PAIR),
}
# Hub split names -> ours.
HUB_SPLITS = {"validation_matched": "validation", "test_matched": "test"}
