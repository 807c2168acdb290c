"""Every token file format and the quirks of real files (BOM, CRLF, whitespace-only breaks, Weibo tokens)."""

import os

import pytest

from conftest import SAMPLES
from tunekit.errors import UserError
from tunekit.data.readers import TokenReadOptions, detect_token_format, read_token_file

EXPECTED = [
    (["Anna", "Brandt", "visited", "Oslo", "."], ["B-PER", "I-PER", "O", "B-LOC", "O"]),
    (["Helix", "Motors", "hired", "Kofi", "."], ["B-ORG", "I-ORG", "O", "B-PER", "O"]),
]


def read(path, **options):
    return [(record["tokens"], record["tags"]) for record in read_token_file(str(path), TokenReadOptions(**options))]


def write(tmp_path, name, content, mode="w"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return str(path)


@pytest.mark.parametrize(
    "name, file_format",
    [
        ("conll_columns.txt", "conll"),
        ("conll_tab.txt", "conll"),
        ("tagged_lines.tsv", "tsv"),
        ("sentences.jsonl", "json"),
        ("sentences_by_id.json", "json"),
        ("sentences.csv", "csv"),
    ],
)
def test_every_bundled_sample_reads_the_same_sentences(name, file_format):
    path = os.path.join(SAMPLES, name)
    assert detect_token_format(path) == file_format
    assert read(path) == EXPECTED


def test_chinese_text_without_spaces_is_read_per_character():
    assert read(os.path.join(SAMPLES, "chinese_chars.tsv"))[0] == (
        ["张", "伟", "去", "北", "京"],
        ["B-PER", "I-PER", "O", "B-LOC", "I-LOC"],
    )


def test_conll_column_choice_for_pos_and_chunk():
    path = os.path.join(SAMPLES, "conll_columns.txt")
    assert read(path, label_column=1, entity_tags=False)[0][1] == ["NNP", "NNP", "VBD", "NNP", "."]
    assert read(path, label_column=2)[1][1] == ["B-NP", "I-NP", "B-VP", "B-NP", "O"]


def test_conll_with_bom_crlf_and_whitespace_only_breaks(tmp_path):
    content = "\ufeff-DOCSTART- O\r\n\r\nAnna B-PER\r\nvisited O\r\n \t \r\nOslo B-LOC\r\n   \r\n"
    path = write(tmp_path, "quirks.txt", content)
    assert read(path) == [(["Anna", "visited"], ["B-PER", "O"]), (["Oslo"], ["B-LOC"])]


def test_line_numbers_point_at_sentence_starts(tmp_path):
    path = write(tmp_path, "lines.txt", "-DOCSTART- O\n\nA O\nB O\n\nC O\n")
    assert [record["line"] for record in read_token_file(path, TokenReadOptions())] == [3, 6]


def test_weibo_tokens_keep_the_character_and_drop_the_position(tmp_path):
    content = "科0\tO\n技1\tO\n10\tB-PER.NAM\ne12\tO\n\ufffd\ufffd0\tO\n\n"
    path = write(tmp_path, "weibo.train", content)
    (tokens, tags), = read(path, strip_token_suffix="digits")
    assert tokens == ["科", "技", "1", "e", "\ufffd\ufffd"]
    assert tags == ["O", "O", "B-PER.NAM", "O", "O"]


def test_tagged_lines_header_is_skipped(tmp_path):
    path = write(tmp_path, "with_header.tsv", "tokens\tlabels\nAnna visited Oslo\tB-PER O B-LOC\n")
    assert read(path) == [(["Anna", "visited", "Oslo"], ["B-PER", "O", "B-LOC"])]


def test_unlabelled_test_file_reads_without_tags(tmp_path):
    path = write(tmp_path, "test.txt", "Anna\nvisited\n\nOslo\n")
    assert read(path, labels_required=False) == [(["Anna", "visited"], []), (["Oslo"], [])]


@pytest.mark.parametrize(
    "name, content, options, message",
    [
        ("mismatch.tsv", "Anna visited\tB-PER O O\n", {}, "mismatch.tsv:1: 2 tokens but 3 labels"),
        ("columns.txt", "Anna B-PER\nvisited\n", {}, "columns.txt:2: expected 2 columns like the first token line, found 1"),
        ("empty.txt", "", {}, "empty.txt:1: the file is empty"),
        ("docstart.txt", "-DOCSTART- -X- -X- O\n\n", {}, "docstart.txt:1: no sentences found"),
        ("latin1.txt", b"Anna B-PER\nM\xfcnchen B-LOC\n", {}, "latin1.txt:2: bytes that are not UTF-8"),
        ("array.jsonl", '{"tokens": ["a"], "ner_tags": ["O"]}\n[1, 2]\n', {}, "array.jsonl:2: a JSON line must be an object"),
        ("broken.jsonl", '{"tokens": ["a"], "ner_tags": ["O"]}\n{"tokens": [\n', {}, "broken.jsonl:2: invalid JSON"),
        ("nofield.jsonl", '{"words": ["a"], "tags": ["O"]}\n{"words": ["b"]}\n', {}, "nofield.jsonl:2: no label field"),
        ("unlabelled.txt", "Anna\nvisited\n", {}, "unlabelled.txt:1: no labels"),
        ("badcol.txt", "Anna NNP B-PER\n", {"label_column": 5}, "badcol.txt:1: --label_column 5 does not fit"),
        ("rows.csv", "tokens,ner_tags\nAnna Brandt,B-PER\n", {}, "rows.csv:2: 2 tokens but 1 labels"),
    ],
)
def test_malformed_files_fail_with_file_and_line(tmp_path, name, content, options, message):
    path = write(tmp_path, name, content)
    with pytest.raises(UserError) as error:
        read(path, **options)
    assert str(error.value).startswith(str(tmp_path / message.split(":")[0]))
    assert message.split(":", 1)[1] in str(error.value)
    assert "\n" not in str(error.value)


def test_every_kind_of_line_end_separates_records(tmp_path):
    """LF, CRLF and old-Mac CR all end a line; a CR is never dropped (that merged two sentences into one)."""
    from tunekit.data.readers.lines import read_lines

    path = tmp_path / "mixed.txt"
    path.write_bytes(b"\xef\xbb\xbfAnna B-PER\r\nvisited O\rOslo B-LOC\n\rKofi B-PER\n")
    assert list(read_lines(str(path))) == [
        (1, "Anna B-PER"), (2, "visited O"), (3, "Oslo B-LOC"), (4, ""), (5, "Kofi B-PER"),
    ]
    sentences = list(read_token_file(str(path), TokenReadOptions()))
    assert [s["tokens"] for s in sentences] == [["Anna", "visited", "Oslo"], ["Kofi"]]


def test_a_quoted_csv_cell_may_span_lines_when_it_takes_in_no_row(tmp_path):
    from tunekit.data.readers.table import csv_rows

    path = tmp_path / "reviews.csv"
    path.write_text('label,review\n1,"first line\nsecond line"\n0,"plain, with a comma"\n')
    assert list(csv_rows(str(path))) == [(1, ["label", "review"]), (2, ["1", "first line\nsecond line"]), (4, ["0", "plain, with a comma"])]


def test_an_empty_tab_separated_token_is_read_as_a_word_and_named_once(tmp_path, caplog):
    """BTC's dev and test files hold tokens the corpus could not print (a tab, then the tag): each stays a word of
    its sentence (the encoder reads a word without pieces as unknown), and the log names the first line."""
    path = write(tmp_path, "tweets.txt", "Last\tO\nchance\tO\n\tO\nto\tO\n \tO\n\nnext\tO\n")
    with caplog.at_level("WARNING", logger="tunekit"):
        assert [tokens for tokens, _ in read(path)] == [["Last", "chance", "", "to", ""], ["next"]]
    assert "tweets.txt: 2 tab-separated tokens are empty or blank (first on line 3)" in caplog.text
    spaced = write(tmp_path, "spaced.txt", "Last O\n O\n")
    with pytest.raises(UserError, match=r"spaced.txt:2: expected 2 columns like the first token line, found 1"):
        read(spaced)
