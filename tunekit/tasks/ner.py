"""Token classification (NER, POS, chunking): the task from reading tagged words to answering a request with entities."""

import logging
from collections import Counter
from functools import partial
from typing import TYPE_CHECKING, Any, Optional

import datasets
from transformers import (
    AutoModel,
    AutoModelForTokenClassification,
    DataCollatorForTokenClassification,
    PretrainedConfig,
    PreTrainedTokenizerBase,
)

from tunekit.config.resolve import Settings
from tunekit.data.corpora import corpora_of
from tunekit.data.corpus_sentences import load_corpus_sentences
from tunekit.data.labels import resolve_label_set
from tunekit.data.report import LabelKind
from tunekit.data.tag_scheme import PLAIN_TASKS, iob2_label_names
from tunekit.data.token_data import documents_of, load_sentences, order_ner_labels
from tunekit.data.vocabulary import warn_about_unknown_words
from tunekit.encoding.corpus_mixing import mixed_rows, mixing_exponent
from tunekit.encoding.ner import NerEncoder, context_reading
from tunekit.encoding.partial_labels import RunCorpora, with_label_sets
from tunekit.encoding.row_attributes import LabelSets, RowAttributes
from tunekit.encoding.splits import encode_splits, padding_options
from tunekit.encoding.unlabelled import with_unlabelled_text
from tunekit.errors import UserError
from tunekit.evaluation.ner_scorer import NerScorer, argmax_logits
from tunekit.folder import saved_run_facts
from tunekit.inference.ner import NerPredictor
from tunekit.inference.predictor import PredictorOptions, load_folder
from tunekit.modeling.loading import label_maps, load_model
from tunekit.modeling.taggers import (
    CrfForTokenClassification,
    bilstm_settings,
    is_crf,
    saved_tagger_class,
    with_bilstm,
    with_crf,
)
from tunekit.modeling.word_vocabulary import scratch_config_and_tokenizer
from tunekit.outputs.model_card import CardText
from tunekit.outputs.ner_card import corpora_section, corpora_source, per_type_table, scratch_limitation
from tunekit.outputs.ner_files import write_predictions, write_scored_split
from tunekit.outputs.report_page import tag_sections
from tunekit.splits import prefix_of
from tunekit.tasks.base import (
    Encoded,
    Lengths,
    Recipe,
    SplitEvaluation,
    Task,
    TaskData,
    default_config_and_tokenizer,
    trained_labels_only,
)
from tunekit.tasks.ner_arguments import NerDataArguments
from tunekit.training.soft_targets import CrfMarginals, SoftTargets, TokenDistributions
from tunekit.training.hp_search import batch_rows
from tunekit.training.losses import loss_function
from tunekit.training.speed.switch import SpeedSupport

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel

logger = logging.getLogger("tunekit")


def load_ner_model(model_args, data_args, use_crf: bool, config) -> 'PreTrainedModel':
    """The token classifier: a folder saved with a CRF or a BiLSTM keeps them; otherwise --use_bilstm puts a BiLSTM
    on the encoder, --no_encoder on word embeddings, and use_crf adds a CRF."""
    if is_crf(config) or bilstm_settings(config):
        model = load_model(saved_tagger_class(config), model_args, config)
        return with_crf(model, config) if use_crf and not is_crf(config) else model
    sizes = (data_args.bilstm_hidden_size, data_args.bilstm_layers, data_args.bilstm_dropout)
    if data_args.no_encoder:
        model = tagger_without_encoder(model_args, config, data_args.embedding_size, sizes)
    elif data_args.use_bilstm:
        model = with_bilstm(load_model(AutoModel, model_args, config), config, *sizes)
    else:
        model = load_model(AutoModelForTokenClassification, model_args, config)
    return with_crf(model, model.config) if use_crf else model


def tagger_without_encoder(model_args, config, embedding_size: int, sizes: tuple[int, int, float]) -> 'PreTrainedModel':
    """--no_encoder: a BiLSTM on word embeddings, random, or copied from --model_name_or_path's input embeddings."""
    if not model_args.model_name_or_path:
        return with_bilstm(None, config, *sizes, embeddings=embedding_size)
    pretrained = load_model(AutoModel, model_args, config).get_input_embeddings().weight.detach()  # type: ignore[operator]
    model = with_bilstm(None, config, *sizes, embeddings=pretrained.shape[1])
    model.get_input_embeddings().weight.data.copy_(pretrained)
    logger.info("--no_encoder: word embeddings start from %s's input embeddings (%d x %d)",
                model_args.model_name_or_path, *pretrained.shape)
    return model


def documents_in(split: str, sentences, data_args, window: int) -> "datasets.Dataset | None":
    """The split's documents for --document_context (logged), or None where it has none: then sentence by sentence."""
    dataset, source = sentences
    context = data_args.document_context
    if not isinstance(dataset, datasets.Dataset):
        logger.warning("%s: streamed, so read sentence by sentence (--document_context needs the whole split)", split)
        return None
    documents = documents_of(dataset)
    if documents is None:
        logger.warning("%s: %s marks no documents (no -DOCSTART- lines or document_id): sentence by sentence", split, source)
        return None
    if data_args.document_context_mode == "sentence":
        logger.info("%s: %d sentences in %d documents, each sentence read with up to %d word pieces of its document "
                    "on each side (windows of at most %d)", split, len(dataset), len(documents), context, window)
        return documents
    overlap = min(2 * context, window // 2)
    if overlap < 2 * context:  # the user asked for more context than half a window holds
        logger.warning("--document_context %d: windows of %d word pieces overlap by at most %d, so each side gets %d",
                       context, window, overlap, overlap // 2)
    logger.info("%s: %d sentences in %d documents, read as windows of %d word pieces overlapping by %d",
                split, len(dataset), len(documents), window, overlap)
    return documents


def warn_about_context_mismatch(model: str, trained: dict, data_args) -> None:
    """One warning when a folder is read with other document context than it was trained with."""
    def described(context, mode):
        return f"--document_context {context}" + (f" --document_context_mode {mode}" if context else "")

    was = described(trained.get("document_context", 0), trained.get("document_context_mode", "windows"))
    now = described(data_args.document_context, data_args.document_context_mode)
    if was != now:
        logger.warning("%s was trained with %s, and this run reads with %s: scores may differ from training",
                       model, was, now)


EXAMPLE = "Anna Brandt visited Oslo on Tuesday."


def usage(folder: str, remote_code: bool) -> str:
    trust = ", trust_remote_code=True" if remote_code else ""
    return f"""```python
from transformers import pipeline

# the path of this folder, or its Hub id once uploaded
tagger = pipeline("token-classification", model="{folder}", aggregation_strategy="simple"{trust})
for entity in tagger("{EXAMPLE}"):
    print(entity["entity_group"], entity["word"], entity["start"], entity["end"], round(entity["score"], 3))
```

Or from the command line, one text per line in, one JSON line of entities out:

```sh
echo "{EXAMPLE}" | sh scripts/predict.sh {folder}
```"""


def limitations(data_args) -> list:
    lines = [f"- Inputs longer than {data_args.max_seq_length} word pieces are split into overlapping windows; each "
             "word is predicted once, by the window where it has most context."]
    if getattr(data_args, "document_context", 0):
        amount = "up to" if getattr(data_args, "document_context_mode", "windows") == "sentence" else "at least"
        lines.append(f"- Trained with document context: each sentence was read with {amount} "
                     f"{data_args.document_context} word pieces of its own document on each side where the document "
                     "had them; give a whole document as one text to predict the same way.")
    return lines


def annotated_types(corpora: Optional[RunCorpora], task: str) -> Optional[dict]:
    """Corpus name -> the types it annotates (None: tags that are labels of their own), for per-corpus scores."""
    return corpora.annotated_types(task not in PLAIN_TASKS) if corpora else None


def crf_row_inputs(label_sets: Optional[LabelSets], rows: RowAttributes, labels: "torch.Tensor") -> dict:
    """What the CRF's own loss takes of a batch's row attributes: the labels each position may take, each
    sentence's weight."""
    allowed = rows.allowed(labels, label_sets)
    return {**({"allowed": allowed} if allowed is not None else {}),
            **({"sequence_weights": rows.weight} if rows.weighted else {})}


def corpus_of_training_examples(splits: dict, documents: dict) -> list:
    """Each training example's corpus: a sentence's, or a document's (all its sentences are of one corpus)."""
    corpora = splits["train"][0]["corpus"]
    if "train" in documents:
        return [corpora[sentences[0]] for sentences in documents["train"]["sentences"]]
    return corpora


def mixed(rows, corpus_of_examples: list, corpus_of_sentences: list, weights: dict,
          settings: Settings[NerDataArguments]) -> Any:
    """The training rows with each corpus repeated to its share of an epoch (--corpus_mixing, its weight)."""
    sentences = Counter(corpus_of_sentences)
    return mixed_rows(rows, [corpus_of_examples[example] for example in rows["example_id"]], sentences, weights,
                      mixing_exponent(settings.data.corpus_mixing), settings.training.seed)


class TokenClassification(Task):
    name = "ner"
    data_arguments = NerDataArguments
    speed = SpeedSupport(equal_token_batches=True)
    sections = staticmethod(tag_sections)
    card = CardText("token-classification", "sentences", usage, limitations, corpora_source, per_type_table,
                    corpora_section, scratch_limitation)
    model_class = staticmethod(saved_tagger_class)

    def soft_targets(self, model: "torch.nn.Module", settings: Settings) -> SoftTargets:
        if isinstance(model, CrfForTokenClassification):
            return CrfMarginals(settings.run.distill_crf_targets)
        return TokenDistributions()

    def read(self, settings: Settings[NerDataArguments], base_config: PretrainedConfig) -> TaskData:
        corpora = corpora_of(settings.data.corpora)
        if corpora:
            splits, corpus_labels = load_corpus_sentences(corpora, settings.data, settings.model, settings.training)
        else:
            splits = load_sentences(settings.data, settings.model, settings.training)
        task = settings.data.task_name
        labels = resolve_label_set(trained_labels_only(splits, settings), "tags", settings.data.label_file, base_config,
                                   order_ner_labels, lambda names: iob2_label_names(names, task not in PLAIN_TASKS))
        overrides = label_maps(labels)
        run_corpora = RunCorpora.of(corpus_labels.described(corpora), labels) if corpora else None
        if run_corpora:
            overrides.update(run_corpora.config())
        elif getattr(base_config, "corpora", None):  # a folder trained on several corpora, trained on one now
            overrides.update(corpora=None, partial_label_sets=None)
        return TaskData(splits, labels, overrides, task, LabelKind.TAGS, corpora=run_corpora)

    def model_inputs(self, data: TaskData, settings: Settings[NerDataArguments]) -> tuple[PretrainedConfig, PreTrainedTokenizerBase]:
        if settings.data.no_encoder and not settings.model.model_name_or_path:
            config, tokenizer = scratch_config_and_tokenizer(data.splits.get("train"), settings.data,
                                                             data.config_overrides)
        else:
            # word alignment reads predictions from the left of each row
            config, tokenizer = default_config_and_tokenizer(data, settings, words_pre_split=True, padding_side="right")
        self.check(data.splits, settings, config, tokenizer)
        return config, tokenizer

    def check(self, splits: dict, settings: Settings[NerDataArguments], config: PretrainedConfig,
              tokenizer: PreTrainedTokenizerBase) -> None:
        """Settings this task cannot run with this model."""
        if settings.training.should_log:
            warn_about_unknown_words(tokenizer, splits, "tokens", split_into_words=True)
        run_args = settings.run
        crf = settings.data.use_crf or is_crf(config)
        if (crf or run_args.hp_search_trials) and run_args.class_weights:
            raise UserError("--class_weights works with the softmax classifier, not with --use_crf or --hp_search_trials")
        trained = saved_run_facts(settings.model.model_name_or_path or "").get("data", {})
        if trained and not settings.training.do_train:
            warn_about_context_mismatch(settings.model.model_name_or_path or "", trained, settings.data)
        bilstm = settings.data.use_bilstm or bilstm_settings(config)
        if (crf or bilstm or run_args.hp_search_trials) and run_args.export_onnx:
            raise UserError("--export_onnx covers an encoder with its linear classifier, not the CRF's Viterbi decoding "
                            "or a BiLSTM's variable-length reading; export a model trained without --use_crf and --use_bilstm")

    def lengths(self, tokenizer: PreTrainedTokenizerBase, data_args: NerDataArguments) -> Lengths:
        # with document context a sentence needs room for its context too: N pieces on each side
        context = 2 * data_args.document_context

        def pieces(batch):
            return [len(ids) + context for ids in tokenizer(batch["tokens"], is_split_into_words=True,
                                                                verbose=False)["input_ids"]]

        counted = f" (lengths count {context} pieces of document context)" if context else ""
        return Lengths(pieces, "split into overlapping windows" + counted)

    def encode(self, data: TaskData, tokenizer: PreTrainedTokenizerBase, config: PretrainedConfig,
               settings: Settings[NerDataArguments]) -> Encoded:
        data_args, splits = settings.data, data.splits
        max_length = settings.max_length
        window = max_length - tokenizer.num_special_tokens_to_add()
        if data_args.stride > window // 2:
            logger.warning("--stride %d is more than half a window of %d word pieces: long sentences' windows overlap "
                           "by %d", data_args.stride, window, window // 2)
        encoded, documents = {}, {}
        for split in splits:
            sentences = splits[split]
            inputs, stride, per_sentence = sentences, data_args.stride, None
            if data_args.document_context:
                grouped = documents_in(split, sentences, data_args, window)
                if grouped is not None:
                    documents[split], inputs = grouped, (grouped, sentences[1])
                    stride, per_sentence = context_reading(
                        data_args.stride, data_args.document_context, data_args.document_context_mode
                    )
            encoder = NerEncoder(tokenizer, dict(config.label2id or {}), max_length, stride,
                                 data_args.label_all_tokens, per_sentence)
            encoded.update(encode_splits({split: inputs}, encoder, data_args, settings.training, with_indices=True))
        if "train" in encoded and data.corpora:
            corpus_of_examples = corpus_of_training_examples(splits, documents)
            encoded["train"] = mixed(with_label_sets(encoded["train"], corpus_of_examples, data.corpora),
                                     corpus_of_examples, splits["train"][0]["corpus"], data.corpora.weights(), settings)
        if settings.run.distill_text and "train" in encoded:
            encoded["train"] = with_unlabelled_text(encoded["train"], settings.run.distill_text, tokenizer,
                                                    dict(config.label2id or {}), max_length, data_args, settings.training)
        if "train" not in documents or not data_args.batch_in_sentences:
            return Encoded(encoded, documents)
        # Document windows hold several sentences: a batch of N sentences becomes the windows that hold about N.
        sentences, windows = len(splits["train"][0]), len(encoded["train"])
        rows = batch_rows(settings.training.per_device_train_batch_size, windows / sentences)
        logger.info("--document_context: %d training sentences in %d windows, so a batch of %d sentences is %d windows",
                    sentences, windows, settings.training.per_device_train_batch_size, rows)
        return Encoded(encoded, documents, windows / sentences,
                       {"per_device_train_batch_size": rows, "batch_in_sentences": False})

    def recipe(self, data: TaskData, encoded: Encoded, config: PretrainedConfig, tokenizer: PreTrainedTokenizerBase,
               settings: Settings[NerDataArguments]) -> Recipe:
        def make_model(trial=None):
            use_crf = trial.params.get("use_crf", settings.data.use_crf) if trial is not None else settings.data.use_crf
            return load_ner_model(settings.model, settings.data, use_crf, config)

        def crf(model) -> bool:  # the CRF's loss is its own sentence likelihood (its ONNX stand-in's too)
            return isinstance(model, CrfForTokenClassification) or is_crf(model.config)

        label_sets = data.corpora.label_sets if data.corpora else None

        return Recipe(
            DataCollatorForTokenClassification(tokenizer, **padding_options(settings.data, settings.training, settings.max_length)), "f1",
            make_model,
            lambda plan: loss_function(settings.run, encoded.splits.get("train"), dict(config.label2id or {}),
                                       plan.token_normaliser.on, label_sets, crf, partial(crf_row_inputs, label_sets)),
            lambda model: {"preprocess_logits_for_metrics": argmax_logits}, search_crf=not is_crf(config),
        )

    def evaluations(self, data: TaskData, encoded: Encoded, config: PretrainedConfig,
                    settings: Settings[NerDataArguments]) -> list[SplitEvaluation]:
        def evaluation(split: str, prefix: str) -> SplitEvaluation:
            sentences = data.splits[split][0]

            def write(output_dir: str, scored) -> None:
                write_scored_split(output_dir, prefix, scored, settings.data, sentences["tokens"])
                if split == "test":
                    write_predictions(output_dir, sentences, scored.predicted)

            return SplitEvaluation(split, prefix, lambda decided: NerScorer(
                sentences, encoded.splits[split], dict(config.id2label or {}), settings.data, encoded.documents.get(split),
                annotated_types(data.corpora, settings.data.task_name)), write)

        return [evaluation(split, prefix_of(split)) for split in ("validation", "test") if split in data.splits]

    def predictor(self, folder: str, options: PredictorOptions) -> NerPredictor:
        loaded = load_folder(folder, saved_tagger_class, options)
        # a text is a document: a model trained with --document_context reads it with the same context
        data_args = loaded.data_args
        context, mode = data_args.get("document_context") or 0, data_args.get("document_context_mode", "windows")
        return NerPredictor(loaded.model, loaded.tokenizer, loaded.max_length, data_args.get("stride", 32),
                            options.batch_size, context, mode)


TASK = TokenClassification()
