"""The warning when the model's vocabulary cannot read the data (Chinese characters with an English model)."""

import logging
import os

import datasets
import pytest

from conftest import SAMPLES, run_program
from tunekit.data.vocabulary import unknown_words, warn_about_unknown_words


@pytest.fixture(scope="module")
def english_tokenizer():
    from transformers import AutoTokenizer

    from tunekit.modeling.loading import default_model_path

    return AutoTokenizer.from_pretrained(default_model_path())


def test_words_that_become_only_unknown_pieces_are_counted(english_tokenizer):
    assert unknown_words(english_tokenizer, [list("张伟去北京")], True) == (["张", "伟", "去"], 5)
    assert unknown_words(english_tokenizer, ["张伟去北京 in Oslo"], False) == (["张", "伟", "去"], 7)
    assert unknown_words(english_tokenizer, [["Anna", "Brandt", "visited", "Oslo", "."]], True) == ([], 5)


def test_warns_once_with_the_share_and_what_to_do(english_tokenizer, caplog):
    chinese = datasets.Dataset.from_dict({"tokens": [list("张伟去北京"), list("李娜在上海工作")]})
    english = datasets.Dataset.from_dict({"tokens": [["Anna", "visited", "Oslo"]] * 3})
    with caplog.at_level(logging.WARNING, logger="tunekit"):
        share = warn_about_unknown_words(english_tokenizer, {"train": (chinese, "zh.tsv")}, "tokens", True)
        assert warn_about_unknown_words(english_tokenizer, {"train": (english, "en.txt")}, "tokens", True) == 0
    assert 0.4 < share < 1
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"zh.tsv: {100 * share:.0f}% of the words") and "[UNK]" in warnings[0]
    assert "bert-base-chinese" in warnings[0]


def test_a_run_on_chinese_data_with_the_english_model_says_so(tiny_bert, tmp_path):
    data = os.path.join(SAMPLES, "chinese_chars.tsv")
    result = run_program(
        "run_ner.py", "--model_name_or_path", tiny_bert, "--train_file", data, "--validation_file", data,
        "--output_dir", str(tmp_path / "out"), "--do_train", "--max_steps", "1", "--report_to", "none",
        "--disable_tqdm", "true", "--save_strategy", "no",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert output.count("become only [UNK]") == 1


def test_a_classification_run_on_chinese_texts_says_so_too(tiny_bert, tmp_path):
    (tmp_path / "train.tsv").write_text("张伟去北京\t1\n李娜在上海工作\t0\n" * 4)
    result = run_program(
        "run_glue.py", "--model_name_or_path", tiny_bert, "--train_file", str(tmp_path / "train.tsv"),
        "--validation_file", str(tmp_path / "train.tsv"), "--output_dir", str(tmp_path / "out"), "--do_train",
        "--max_steps", "1", "--report_to", "none", "--save_strategy", "no",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (result.stdout + result.stderr).count("become only [UNK]") == 1
