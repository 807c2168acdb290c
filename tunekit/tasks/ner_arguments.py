"""run_ner.py's data arguments, importable without torch or transformers (so --help comes up at once)."""

from dataclasses import dataclass, field
from typing import Optional

from tunekit.config.arguments import DataTrainingArguments, check_options_of
from tunekit.data.corpora import corpora_of
from tunekit.data.readers import TOKEN_READERS
from tunekit.data.readers.fields import TASK_COLUMNS
from tunekit.encoding.corpus_mixing import mixing_exponent

# seqeval's schemes (evaluation/entity_scores.py SCHEMES, which imports seqeval)
SCHEME_NAMES = ("IOB1", "IOB2", "IOE1", "IOE2", "IOBES", "BILOU")
CONTEXT_MODES = ("windows", "sentence")


@dataclass
class NerDataArguments(DataTrainingArguments):
    """Data arguments of run_ner.py: the shared ones plus token-level options."""

    task_name: str = field(
        default="ner", metadata={"help": "ner, pos or chunk: which CoNLL-2003 column (or Hub *_tags column) to learn."}
    )
    text_column_name: Optional[str] = field(
        default=None, metadata={"help": "Name of the token column in JSON, CSV and Hub data (default: tokens)."}
    )
    label_column: Optional[int] = field(
        default=None,
        metadata={"help": "CoNLL files: index of the label column (0 is the token; default: last, or per task_name)."},
    )
    label_all_tokens: bool = field(
        default=False,
        metadata={"help": "Train on every word piece (B- becomes I- on later pieces), not only the first."},
    )
    return_entity_level_metrics: bool = field(
        default=False, metadata={"help": "Report precision/recall/F1 for each entity type too."}
    )
    seqeval_mode: Optional[str] = field(
        default=None, metadata={"help": "'strict' for exact scheme-aware entity matching (default: lenient CoNLL)."}
    )
    seqeval_scheme: Optional[str] = field(
        default=None, metadata={"help": f"The official script's scheme for strict mode ({', '.join(SCHEME_NAMES)}). "
                                "Tags are read into IOB2 from whatever scheme the data uses (recognised from the "
                                "tags), so strict mode scores them as IOB2 whichever is named."}
    )
    stride: int = field(
        default=32,
        metadata={"help": "Overlap in word pieces between windows of a sentence longer than max_seq_length."},
    )
    document_context: int = field(
        default=0,
        metadata={
            "help": "Read every sentence with at least N word pieces of its own document on each side (documents: "
            "CoNLL -DOCSTART- lines or a document_id column); scores stay per sentence. 0: one sentence at a time."
        },
    )
    document_context_mode: str = field(
        default="windows",
        metadata={
            "help": "'windows': overlapping windows over each document, every word predicted where it has most "
            "context (cheap); 'sentence': each sentence in its own window with N pieces each side (Flair's FLERT)."
        },
    )
    batch_in_sentences: bool = field(
        default=True,
        metadata={
            "help": "With --document_context, --per_device_train_batch_size counts sentences: each training batch holds "
            "the windows of about that many sentences, so a step sees the tokens it would sentence by sentence. "
            "Settled into the batch size of windows when training starts (run_config.yaml then says false)."
        },
    )
    use_crf: bool = field(
        default=False,
        metadata={
            "help": "Put a linear-chain CRF on the token classifier: trained on the sentence likelihood, decoded with "
            "Viterbi under BIO constraints; the saved folder keeps it."
        },
    )
    use_bilstm: bool = field(
        default=False,
        metadata={
            "help": "Put a bidirectional LSTM between the encoder and the token classifier (with --use_crf: BERT + "
            "BiLSTM + CRF); --head_learning_rate covers it and every layer above the encoder. The saved folder keeps it."
        },
    )
    bilstm_hidden_size: int = field(default=256, metadata={"help": "Units of the BiLSTM in each direction."})
    bilstm_layers: int = field(default=1, metadata={"help": "Stacked BiLSTM layers."})
    bilstm_dropout: Optional[float] = field(
        default=None,
        metadata={"help": "Dropout before, between and after the BiLSTM layers (default 0.1 on an encoder, 0.5 with "
                  "--no_encoder)."},
    )
    no_encoder: bool = field(
        default=False,
        metadata={
            "help": "A BiLSTM-CRF tagger without a pretrained encoder, the fast CPU baseline: word embeddings trained "
            "from scratch on the training words (or started from --model_name_or_path's input embeddings, with its "
            "tokenizer, when one is given), a BiLSTM and a CRF. Implies --use_bilstm --use_crf."
        },
    )
    embedding_size: int = field(default=100, metadata={"help": "--no_encoder from scratch: size of a word vector."})
    min_word_count: int = field(
        default=2, metadata={"help": "--no_encoder from scratch: a word seen fewer times is read as its characters."}
    )
    character_pieces: bool = field(
        default=True,
        metadata={"help": "--no_encoder from scratch: read rare and unseen words as character pieces "
                  "(--no_character_pieces: as [UNK])."},
    )
    strip_token_suffix: Optional[str] = field(
        default=None,
        metadata={"help": "Regex removed from each token, or 'digits' for Weibo NER's `char+position` tokens."},
    )

    corpora: Optional[list[str]] = field(
        default=None,
        metadata={"help": "Several corpora: NAME=PATH and NAME.KEY=VALUE items, or a YAML file (docs/corpora.md)."},
    )

    corpus_mixing: str = field(
        default="proportional",
        metadata={"help": "A corpus's share: weight x size^E: proportional (E=1), tempered (E=0.5) or E."},
    )

    def __post_init__(self):
        check_options_of(self, "corpora", ("corpus_mixing",))
        mixing_exponent(self.corpus_mixing)
        if self.corpora and (self.data_dir or self.train_file or self.validation_file or self.test_file
                             or self.dataset_name):
            raise ValueError("--corpora names each corpus's data: leave out --data_dir, --train_file, "
                             "--validation_file, --test_file and --dataset_name")
        if self.corpora:  # checked now, and kept as a configuration file lists them, with absolute paths
            self.corpora = [corpus.as_mapping() for corpus in corpora_of(self.corpora)]
        if self.task_name not in TASK_COLUMNS:
            raise ValueError(f"--task_name must be one of {', '.join(TASK_COLUMNS)}, not {self.task_name}")
        if self.file_format is not None and self.file_format not in TOKEN_READERS:
            raise ValueError(f"--file_format must be one of {', '.join(TOKEN_READERS)}")
        if self.seqeval_mode not in (None, "strict"):
            raise ValueError("--seqeval_mode must be 'strict' or left out")
        if self.seqeval_scheme is not None and self.seqeval_scheme not in SCHEME_NAMES:
            raise ValueError(f"--seqeval_scheme must be one of {', '.join(SCHEME_NAMES)}")
        if self.seqeval_scheme and self.seqeval_mode != "strict":
            raise ValueError("--seqeval_scheme is used only in strict mode: add --seqeval_mode strict, or leave the "
                             "scheme out")
        if self.seqeval_mode == "strict":  # the readers rewrote every scheme as IOB2
            self.seqeval_scheme = "IOB2"
        if self.stride < 0:
            raise ValueError("--stride must be zero or more")
        if self.document_context < 0:
            raise ValueError("--document_context must be zero or more")
        for name in ("bilstm_hidden_size", "bilstm_layers", "embedding_size", "min_word_count"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name} must be at least 1")
        if self.bilstm_dropout is not None and not 0 <= self.bilstm_dropout < 1:
            raise ValueError("--bilstm_dropout must be at least 0 and below 1")
        check_options_of(self, "no_encoder", ("embedding_size", "min_word_count", "character_pieces"))
        if self.no_encoder:
            self.use_bilstm = self.use_crf = True
        check_options_of(self, "use_bilstm", ("bilstm_hidden_size", "bilstm_layers"))
        if self.bilstm_dropout is None:
            self.bilstm_dropout = 0.5 if self.no_encoder else 0.1
        if self.document_context_mode not in CONTEXT_MODES:
            raise ValueError(f"--document_context_mode must be one of {', '.join(CONTEXT_MODES)}")
