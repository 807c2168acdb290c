"""The vocabulary and tokenizer of a tagger without a pretrained encoder (--no_encoder), built from the training words.

A word seen at least --min_word_count times is one piece. With character pieces (the default) every character of
the training data is a piece too, as in WordPiece (`##c` inside a word), so a rarer or unseen word is read as its
characters instead of one [UNK]; without them such a word is [UNK]. The result is an ordinary fast tokenizer:
word alignment, windows, saving and predict.sh work with it as with any model's.
"""

import logging
from collections import Counter
from typing import TYPE_CHECKING

from tunekit.data.sources import column_values
from tunekit.errors import UserError

if TYPE_CHECKING:
    from transformers import BertConfig, PreTrainedTokenizerFast

logger = logging.getLogger("tunekit")
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
CONTINUATION = "##"
LONGEST_WORD = 100  # characters; a longer "word" (a URL, a hash) becomes [UNK] rather than 100 pieces


def vocabulary(sentences, min_count: int, characters: bool) -> list:
    """Special tokens, then frequent words (most frequent first), then characters and their inside forms."""
    counts = Counter(word for tokens in sentences for word in tokens)
    words = [word for word, count in counts.most_common() if count >= min_count]
    pieces = list(SPECIAL_TOKENS) + words
    if characters:
        letters = sorted({letter for word in counts for letter in word})
        known = set(pieces)
        pieces += [letter for letter in letters if letter not in known]
        pieces += [CONTINUATION + letter for letter in letters]
    return pieces


def word_tokenizer(pieces: list, max_length: int = 512) -> 'PreTrainedTokenizerFast':
    """A WordPiece fast tokenizer over `pieces`: whole words split only on whitespace, [CLS] ... [SEP] around."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    ids = {piece: index for index, piece in enumerate(pieces)}
    model = models.WordPiece(ids, unk_token="[UNK]", continuing_subword_prefix=CONTINUATION,
                             max_input_chars_per_word=LONGEST_WORD)
    tokenizer = Tokenizer(model)
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", ids["[CLS]"]), ("[SEP]", ids["[SEP]"])],
    )
    tokenizer.decoder = decoders.WordPiece(prefix=CONTINUATION)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]", model_max_length=max_length,
    )


def scratch_config(vocab_size: int, embedding_size: int, overrides: dict, max_length: int = 512) -> 'BertConfig':
    """A config for the saved folder: BERT's type so AutoConfig and AutoTokenizer read it anywhere, with no
    transformer layers; the tagger's sizes are added by modeling.taggers.with_bilstm."""
    from transformers import BertConfig

    return BertConfig(vocab_size=vocab_size, hidden_size=embedding_size, num_hidden_layers=0, num_attention_heads=1,
                      intermediate_size=embedding_size, max_position_embeddings=max_length, pad_token_id=0,
                      **overrides)


def scratch_config_and_tokenizer(train, data_args, overrides: dict) -> tuple:
    """(config, tokenizer) of a --no_encoder tagger, from the training split (Dataset, source)."""
    if train is None:
        raise UserError("--no_encoder builds its vocabulary from the training data: pass --do_train and training "
                        "data, or --model_name_or_path a folder trained with --no_encoder")
    dataset, source = train
    if not hasattr(dataset, "__len__"):
        raise UserError(f"{source}: --no_encoder builds its vocabulary from the whole training split, which cannot be "
                        "streamed; leave out --streaming")
    pieces = vocabulary(column_values(dataset, "tokens"), data_args.min_word_count, data_args.character_pieces)
    words = len(pieces) - len(SPECIAL_TOKENS)
    logger.info("--no_encoder: a vocabulary of %d pieces from %s (words seen at least %d times%s)", len(pieces), source,
                data_args.min_word_count, ", and every character" if data_args.character_pieces else "")
    if words <= 0:
        raise UserError(f"{source}: no word occurs {data_args.min_word_count} times; lower --min_word_count")
    return scratch_config(len(pieces), data_args.embedding_size, overrides), word_tokenizer(pieces)
