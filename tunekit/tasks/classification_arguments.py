"""run_glue.py's data arguments, importable without torch or transformers (so --help comes up at once)."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Optional

from tunekit.config.arguments import DataTrainingArguments
from tunekit.data.glue_tasks import GLUE_TASKS
from tunekit.data.readers.table import TABLE_FORMATS
from tunekit.encoding.classification import (
    CHUNK_POOLINGS,
    LONG_TEXT_MODES,
    PAIR_ENCODINGS,
    SENTENCE_POOLINGS,
    TRUNCATION_SIDES,
)

if TYPE_CHECKING:
    from tunekit.data.glue_tasks import GlueTask


@dataclass
class ClassificationDataArguments(DataTrainingArguments):
    """Data arguments of run_glue.py: the shared ones plus classification options."""

    # evaluation uses the folder's saved thresholds unless --tune_thresholds is passed again
    training_only_fields: ClassVar[tuple] = (*DataTrainingArguments.training_only_fields, "tune_thresholds")

    task_name: Optional[str] = field(
        default=None,
        metadata={"help": f"A GLUE task ({', '.join(GLUE_TASKS)}): its Hub data, or its TSV layout with --data_dir."},
    )
    text_column_names: Optional[str] = field(
        default=None,
        metadata={"help": "Text column(s), by name or 0-based index, comma-separated: one for single texts, two for pairs."},
    )
    has_header: Optional[bool] = field(
        default=None, metadata={"help": "Whether TSV/CSV files start with a header (default: detected)."}
    )
    do_regression: bool = field(
        default=False, metadata={"help": "Treat labels as numbers and train a single-output regression head."}
    )
    truncation_side: str = field(
        default="head",
        metadata={"help": "Single texts longer than max_seq_length keep their head, tail, or head_tail (pairs: longest first)."},
    )
    head_tokens: int = field(
        default=128,
        metadata={"help": "With --truncation_side head_tail: word pieces kept from the head; the rest come from the tail."},
    )
    long_text: str = field(
        default="truncate",
        metadata={"help": "Single texts longer than max_seq_length: 'truncate' (see --truncation_side) or 'chunks': "
                  "overlapping windows whose logits are pooled into one prediction."},
    )
    chunk_pooling: str = field(
        default="mean",
        metadata={"help": "How a long text's chunks make one prediction: the mean or max of their logits, or "
                  "'attention': a learned attention over the chunks' vectors, trained end to end and saved with the model."},
    )
    sentence_pooling: str = field(
        default="cls",
        metadata={"help": "How the text (or pair) vector is read from the last layer: 'cls' (the model's own "
                  "classification head: BERT's pooler over [CLS]), or the mean, max or a learned attention over the "
                  "tokens, padding excluded; saved with the model."},
    )
    chunk_stride: int = field(default=32, metadata={"help": "Overlap in word pieces between chunks of a long text."})

    pair_encoding: str = field(
        default="cross",
        metadata={"help": "Sentence pairs: 'cross' (one input, [CLS] a [SEP] b [SEP], the texts attend to each other) "
                  "or 'siamese' (each text read alone and pooled by --sentence_pooling, the classifier sees u, v, |u-v| "
                  "and u*v, as Sentence-BERT): how sentence encoders were trained."},
    )
    tune_thresholds: bool = field(
        default=False,
        metadata={"help": "Multi-label: tune each label's decision threshold on dev (the one with the label's best "
                  "F1), save them as thresholds.json with the model, and use them for test, eval.sh, predict.sh and "
                  "the server. Without it every label is chosen above 0.5 (or by a folder's saved thresholds)."},
    )

    def __post_init__(self):
        if self.task_name is not None:
            self.task_name = self.task_name.lower().replace("-", "")
            if self.task_name not in GLUE_TASKS:
                raise ValueError(f"--task_name must be one of {', '.join(GLUE_TASKS)}, not {self.task_name}")
        if self.truncation_side not in TRUNCATION_SIDES:
            raise ValueError(f"--truncation_side must be one of {', '.join(TRUNCATION_SIDES)}")
        if self.file_format is not None and self.file_format not in TABLE_FORMATS:
            raise ValueError(f"--file_format must be one of {', '.join(TABLE_FORMATS)}")
        if self.head_tokens < 0:
            raise ValueError("--head_tokens must be zero or more")
        if self.long_text not in LONG_TEXT_MODES:
            raise ValueError(f"--long_text must be one of {', '.join(LONG_TEXT_MODES)}")
        if self.chunk_pooling not in CHUNK_POOLINGS:
            raise ValueError(f"--chunk_pooling must be one of {', '.join(CHUNK_POOLINGS)}")
        if self.sentence_pooling not in SENTENCE_POOLINGS:
            raise ValueError(f"--sentence_pooling must be one of {', '.join(SENTENCE_POOLINGS)}")
        if self.pair_encoding not in PAIR_ENCODINGS:
            raise ValueError(f"--pair_encoding must be one of {', '.join(PAIR_ENCODINGS)}")
        if self.chunk_stride < 0:
            raise ValueError("--chunk_stride must be zero or more")
        if self.long_text != "chunks" and (self.chunk_pooling != "mean" or self.chunk_stride != 32):
            raise ValueError("--chunk_pooling and --chunk_stride apply to --long_text chunks; add it or leave them out")

    @property
    def glue_task(self) -> 'GlueTask | None':
        return GLUE_TASKS.get(self.task_name) if self.task_name else None

    @property
    def output_name(self) -> str:
        return self.task_name or "classification"
