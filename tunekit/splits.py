"""The splits a run reads and scores, named once: the dataset split, the prefix of its metrics (eval_f1), the short
name the terminal and the data report print, the title the model card, charts and report.html show, and the
key = value results file it gets; beside them, the metrics each summary shows. Imports nothing of tunekit: every
stage may use it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Split:
    name: str  # the dataset split
    prefix: str  # of its metrics
    short: str  # in the terminal and the data report
    title: str  # in the card, the charts and report.html
    results_file: str | None = None  # its key = value lines


SPLITS = (
    Split("train", "train", "train", "train"),
    Split("validation", "eval", "dev", "dev", "eval_results.txt"),
    Split("validation_matched", "eval", "dev", "dev", "eval_results.txt"),  # MNLI's matched dev set
    Split("validation_mismatched", "eval_mm", "dev-mm", "dev (mismatched)", "eval_mm_results.txt"),
    Split("test", "predict", "test", "test", "test_results.txt"),
)
BY_NAME = {split.name: split for split in SPLITS}
BY_PREFIX: dict[str, Split] = {}
for _split in SPLITS:
    BY_PREFIX.setdefault(_split.prefix, _split)
SCORED_PREFIXES = tuple(prefix for prefix in BY_PREFIX if prefix != "train")  # eval, eval_mm, predict


# Where a metric is shown (every place lists what a split has, in METRICS' order): the --seeds table, the card's
# teacher-against-student rows, the card's results table, the closing summary in the terminal and report.html.
SEEDS, TEACHER, CARD, CLOSING = "seeds", "teacher", "card", "closing"
EVERYWHERE = frozenset({SEEDS, TEACHER, CARD, CLOSING})


@dataclass(frozen=True)
class Metric:
    name: str  # after the split's prefix: eval_f1
    shown: frozenset = EVERYWHERE


METRICS = (
    Metric("f1"), Metric("precision"), Metric("recall"), Metric("accuracy"), Metric("matthews_correlation"),
    Metric("pearson"), Metric("spearmanr"),
    Metric("span_f1", frozenset({SEEDS})),  # NER's exact-span score beside the entity F1
    Metric("mse", frozenset({CARD})),  # regression's error, beside its correlations
    Metric("loss", frozenset({CLOSING})),
)


def shown_metrics(place: str) -> tuple[str, ...]:
    """The metric names a place shows, in the table's order."""
    return tuple(metric.name for metric in METRICS if place in metric.shown)


def prefix_of(name: str) -> str:
    """The metric prefix of a dataset split (a split of no table keeps its own name)."""
    return BY_NAME[name].prefix if name in BY_NAME else name


def part_prefix(prefix: str, part: str) -> str:
    """The metric prefix of a named part of a split (a corpus of --corpora): eval, btc -> eval[btc]. The brackets
    keep parts in a key space of their own: no split prefix or metric name holds one, so a corpus named span, mm,
    test or f1 cannot take a split's or a metric's key (eval[span]_f1 is not eval_span_f1)."""
    return f"{prefix}[{part}]"


def short_name(key: str) -> str:
    """The short name of a split or a metric prefix: validation -> dev, eval_mm -> dev-mm; a corpus's part of a
    split (--corpora): eval[btc] -> dev btc."""
    split = BY_NAME.get(key) or BY_PREFIX.get(key)
    if split:
        return split.short
    part = split_and_part(key)
    return f"{part[0].short} {part[1]}" if part else key


def title(prefix: str) -> str:
    """The title of a metric prefix: eval_mm -> dev (mismatched); eval[btc] -> dev, btc."""
    if prefix in BY_PREFIX:
        return BY_PREFIX[prefix].title
    part = split_and_part(prefix)
    return f"{part[0].title}, {part[1]}" if part else prefix


def split_and_part(prefix: str) -> 'tuple[Split, str] | None':
    """(the split, the part's name) of a part's prefix: eval[btc] -> (dev, btc); None for other keys."""
    split, bracket, part = prefix.partition("[")
    if not bracket or not prefix.endswith("]") or split not in SCORED_PREFIXES:
        return None
    return BY_PREFIX[split], part[:-1]
