"""Label alignment to word pieces, zero-piece words, and windows that give every word exactly one prediction."""

import pytest
from transformers import AutoTokenizer

from tunekit.encoding import IGNORE_INDEX
from tunekit.encoding.ner import NerEncoder, owners, words_from_pieces
from tunekit.encoding.windows import window_bounds
from tunekit.modeling.loading import default_model_path

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
LABEL2ID = {label: index for index, label in enumerate(LABELS)}


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(default_model_path())


def encode(tokenizer, sentences, max_length=64, stride=4, label_all_tokens=False):
    encoder = NerEncoder(tokenizer, LABEL2ID, max_length, stride, label_all_tokens)
    batch = {"tokens": [tokens for tokens, _ in sentences], "tags": [tags for _, tags in sentences]}
    return encoder(batch, list(range(len(sentences))))


def test_first_piece_carries_the_label_and_later_pieces_are_ignored(tokenizer):
    # "Szczebrzeszyn" splits into several WordPiece pieces with this vocabulary.
    features = encode(tokenizer, [(["Szczebrzeszyn", "visited", "Gdansk"], ["B-PER", "O", "B-LOC"])])
    pieces = tokenizer.convert_ids_to_tokens(features["input_ids"][0])
    labels = features["labels"][0]
    assert pieces[0] == "[CLS]" and labels[0] == IGNORE_INDEX and labels[-1] == IGNORE_INDEX
    first_of_each_word = [i for i, w in enumerate(features["word_index"][0]) if w >= 0]
    assert [labels[i] for i in first_of_each_word] == [LABEL2ID["B-PER"], LABEL2ID["O"], LABEL2ID["B-LOC"]]
    long_word_pieces = first_of_each_word[1] - first_of_each_word[0]
    assert long_word_pieces > 1
    assert labels[first_of_each_word[0] + 1 : first_of_each_word[1]] == [IGNORE_INDEX] * (long_word_pieces - 1)


def test_label_all_tokens_turns_b_into_i_on_later_pieces(tokenizer):
    features = encode(tokenizer, [(["Szczebrzeszyn", "visited"], ["B-PER", "O"])], label_all_tokens=True)
    starts = [i for i, w in enumerate(features["word_index"][0]) if w >= 0]
    labels = features["labels"][0]
    assert labels[starts[0]] == LABEL2ID["B-PER"]
    assert set(labels[starts[0] + 1 : starts[1]]) == {LABEL2ID["I-PER"]}


def test_word_with_no_pieces_still_gets_a_prediction(tokenizer):
    assert tokenizer(["\u200b"], is_split_into_words=True, add_special_tokens=False)["input_ids"] == []
    features = encode(tokenizer, [(["Anna", "\u200b", "Oslo"], ["B-PER", "O", "B-LOC"])])
    owned = [w for w in features["word_index"][0] if w >= 0]
    assert owned == [0, 1, 2]
    position = features["word_index"][0].index(1)
    assert features["input_ids"][0][position] == tokenizer.unk_token_id


def test_windows_overlap_and_cover_the_content():
    bounds = window_bounds(25, 10, 4)
    assert bounds[0] == (0, 10) and bounds[-1][1] == 25
    assert all(b[0] == a[1] - 4 for a, b in zip(bounds, bounds[1:]))
    assert window_bounds(8, 10, 4) == [(0, 8)]


def test_each_word_is_owned_by_the_window_where_it_has_most_context():
    bounds = [(0, 10), (6, 16)]
    owner = owners({0: 0, 1: 7, 2: 9, 3: 15}, bounds)
    assert owner == {0: 0, 1: 0, 2: 1, 3: 1}


@pytest.mark.parametrize("max_length", [6, 9, 16, 64])
def test_long_sentences_predict_every_word_exactly_once(tokenizer, max_length):
    words = ("Anna Kowalski flew from Gdansk to Valparaiso with Hiroshi Nakamura " * 4).split()
    tags = [["O", "B-PER", "I-PER", "B-LOC", "I-LOC"][i % 5] for i in range(len(words))]
    features = encode(tokenizer, [(words, tags), (["Oslo"], ["B-LOC"])], max_length=max_length)
    assert all(len(ids) <= max_length for ids in features["input_ids"])
    owned = sorted((e, w) for e, row in zip(features["example_id"], features["word_index"]) for w in row if w >= 0)
    assert owned == [(0, i) for i in range(len(words))] + [(1, 0)]
    # Feeding the gold labels back as "predictions" must give back the gold words.
    words_back = words_from_pieces(
        [[max(label, 0) for label in row] for row in features["labels"]],
        features["example_id"],
        features["word_index"],
        [len(words), 1],
        dict(enumerate(LABELS)),
    )
    assert words_back == [tags, ["B-LOC"]]


def test_an_encoded_split_is_cached_under_a_key_of_everything_that_decides_it(tokenizer):
    """The key our encoding gives datasets' cache (instead of datasets pickling the tokenizer to make one) is the
    same for the same split, encoder and tokenizer, and differs when any of them differs."""
    import datasets

    from tunekit.encoding.splits import encoding_fingerprint

    labels = {"O": 0, "B-PER": 1, "I-PER": 2}
    split = datasets.Dataset.from_dict({"tokens": [["Anna", "ate"]], "tags": [["B-PER", "O"]]})
    key = encoding_fingerprint(split, NerEncoder(tokenizer, labels, 64, 4, False), True)
    assert key == encoding_fingerprint(split, NerEncoder(tokenizer, dict(labels), 64, 4, False), True)
    other_tokenizer = AutoTokenizer.from_pretrained(default_model_path())
    other_tokenizer.add_tokens(["ślązak"])
    others = [
        encoding_fingerprint(split.select([0, 0]), NerEncoder(tokenizer, labels, 64, 4, False), True),
        encoding_fingerprint(split, NerEncoder(tokenizer, labels, 32, 4, False), True),
        encoding_fingerprint(split, NerEncoder(tokenizer, {"O": 0, "B-PER": 2, "I-PER": 1}, 64, 4, False), True),
        encoding_fingerprint(split, NerEncoder(tokenizer, labels, 64, 4, True), True),
        encoding_fingerprint(split, NerEncoder(other_tokenizer, labels, 64, 4, False), True),
        encoding_fingerprint(split, NerEncoder(tokenizer, labels, 64, 4, False), False),
    ]
    assert key is not None and len({key, *others}) == 1 + len(others)
