"""Classification files: GLUE folder quirks, own TSV/CSV/JSON with and without headers, label files, errors."""

import pytest

from tunekit.errors import UserError
from tunekit.data.labels import read_label_file
from tunekit.data.readers.classification import ExampleReadOptions, read_classification_file
from tunekit.data.example_data import read_options, split_files
from tunekit.tasks.classification_arguments import ClassificationDataArguments


def write(folder, name, content):
    path = folder / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return str(path)


def read(path, **options):
    return [
        (r["text_a"], r["text_b"], r["labels"]) for r in read_classification_file(path, ExampleReadOptions(**options))
    ]


def glue_options(task, split="train", tmp_path=None):
    return read_options(ClassificationDataArguments(task_name=task, data_dir=str(tmp_path)), split)


def test_cola_has_no_header_and_four_columns(tmp_path):
    path = write(tmp_path, "train.tsv", "gj04\t1\t\tThe cat sat .\ngj04\t0\t*\tSat cat the .\n")
    rows = list(read_classification_file(path, glue_options("cola", tmp_path=tmp_path)))
    assert [(r["text_a"], r["labels"]) for r in rows] == [("The cat sat .", ["1"]), ("Sat cat the .", ["0"])]


def test_mrpc_bom_header_and_bare_quotes(tmp_path):
    content = (
        "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
        '1\t11\t12\tHe called him " the witness " .\tHe said " the witness " .\n'
    )
    path = write(tmp_path, "train.tsv", content)
    (row,) = read_classification_file(path, glue_options("mrpc", tmp_path=tmp_path))
    assert row["text_a"] == 'He called him " the witness " .'
    assert row["text_b"] == 'He said " the witness " .'
    assert row["labels"] == ["1"]


def test_sst2_space_before_the_tab_is_not_part_of_the_text_or_label(tmp_path):
    path = write(tmp_path, "train.tsv", "sentence\tlabel\na fine film \t1\n")
    assert read(path, **vars(glue_options("sst2", tmp_path=tmp_path))) == [("a fine film", None, ["1"])]


def test_stsb_reads_the_score_column_of_ten(tmp_path):
    header = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
    path = write(tmp_path, "train.tsv", header + "0\tg\tf\t2012\t1\tn\tn\tA plane.\tAn air plane.\t4.800\n")
    assert read(path, **vars(glue_options("stsb", tmp_path=tmp_path))) == [("A plane.", "An air plane.", ["4.800"])]


def test_glue_test_file_without_labels_reads_its_own_header(tmp_path):
    path = write(tmp_path, "test.tsv", "index\tsentence\n0\tThe cat sat .\n")
    assert read(path, **vars(glue_options("cola", "test", tmp_path))) == [("The cat sat .", None, [])]


def test_mnli_folder_uses_matched_and_mismatched_dev_files(tmp_path):
    for name in ("train.tsv", "dev_matched.tsv", "dev_mismatched.tsv"):
        write(tmp_path, name, "x")
    files = split_files(ClassificationDataArguments(task_name="mnli", data_dir=str(tmp_path)))
    assert files == {
        "train": str(tmp_path / "train.tsv"),
        "validation": str(tmp_path / "dev_matched.tsv"),
        "validation_mismatched": str(tmp_path / "dev_mismatched.tsv"),
    }


def test_own_tsv_without_header_single_and_pair(tmp_path):
    assert read(write(tmp_path, "a.tsv", "好酒店\t1\n很差\t0\n")) == [("好酒店", None, ["1"]), ("很差", None, ["0"])]
    assert read(write(tmp_path, "b.tsv", "q1\tq2\t1\n")) == [("q1", "q2", ["1"])]


def test_columns_chosen_by_name_or_index(tmp_path):
    path = write(tmp_path, "c.tsv", "id\tbody\ttopic\n7\tgood match\tsport\n")
    assert read(path, text_columns=["body"], label_column="topic") == [("good match", None, ["sport"])]
    path = write(tmp_path, "d.tsv", "sport\t7\tgood match\n")
    assert read(path, text_columns=["2"], label_column="0") == [("good match", None, ["sport"])]


def test_csv_with_quoted_commas(tmp_path):
    path = write(tmp_path, "h.csv", 'label,review\n1,"near the road, but ""nice"" staff"\n')
    assert read(path) == [('near the road, but "nice" staff', None, ["1"])]


def test_json_lines_pairs_and_multi_label(tmp_path):
    path = write(tmp_path, "a.json", '{"sentence1": "a", "sentence2": "b", "label": "1"}\n')
    assert read(path) == [("a", "b", ["1"])]
    path = write(tmp_path, "m.jsonl", '{"text": "rain and wind", "labels": ["rain", "wind"]}\n')
    (row,) = read_classification_file(path, ExampleReadOptions())
    assert row["labels"] == ["rain", "wind"] and row["label_list"] is True


def test_clue_label_file_in_json_lines(tmp_path):
    path = write(tmp_path, "labels.json", '{"label": "100", "label_desc": "news_story"}\n{"label": "101"}\n')
    assert read_label_file(path) == ["100", "101"]


@pytest.mark.parametrize(
    "name, content, options, message",
    [
        ("empty_text.tsv", "good\t1\n \t0\n", {}, "empty_text.tsv:2: empty text"),
        ("columns.tsv", "a\tb\t1\na\t1\n", {}, "columns.tsv:2: expected 3 columns like the first line, found 2"),
        ("nocol.tsv", "body\tlabel\nx\t1\n", {"text_columns": ["text"]}, "nocol.tsv:1: no text column 'text'"),
        ("nolabel.jsonl", '{"text": "a"}\n', {"label_column": "label"}, "nolabel.jsonl:1: no label field 'label'"),
        ("notobject.jsonl", '{"text": "a", "label": "1"}\n"b"\n', {}, "notobject.jsonl:2: a JSON line must be an object"),
        ("wide.tsv", "a\tb\tc\td\n", {}, "wide.tsv:1: 4 columns and no header"),
        ("emptylabel.tsv", "good\t1\nbad\t\n", {}, "emptylabel.tsv:2: empty label"),
    ],
)
def test_malformed_classification_files(tmp_path, name, content, options, message):
    path = write(tmp_path, name, content)
    with pytest.raises(UserError) as error:
        read(path, **options)
    assert str(error.value).startswith(str(tmp_path / name) + ":" + message.split(":", 2)[1])
    assert message.split(":", 2)[2] in str(error.value)


@pytest.mark.parametrize("name,content,where", [
    ("train.jsonl", '{"sentence": "good", "label": "pos"}\n{"sentence": "bad \\ud800 x", "label": "neg"}\n', ":2:"),
    ("train.json", '[{"sentence": "good", "label": "pos"}, {"sentence": "\\udc80", "label": "neg"}]', ":entry 1:"),
])
def test_invalid_unicode_in_json_is_an_error_on_its_line(tmp_path, name, content, where):
    path = write(tmp_path, name, content)
    with pytest.raises(UserError, match=f"{name}{where} field 'sentence' holds invalid Unicode"):
        read(path)
