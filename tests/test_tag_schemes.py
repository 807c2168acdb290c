"""Tags in any scheme are read as the IOB2 they mean, or refused with file:line; never silently mis-read (seqeval
would take the P of PER as a prefix and the O of ORG as outside)."""

import json

import pytest

from conftest import run_program
from tunekit.data.readers import TokenReadOptions, read_token_file
from tunekit.errors import UserError

WORDS = ["Anna", "Brandt", "met", "Bo", "at", "Helix", "Motors", "in", "Oslo"]
IOB2 = ["B-PER", "I-PER", "O", "B-PER", "O", "B-ORG", "I-ORG", "O", "B-LOC"]
# the same sentence in every spelling a user's file may have; Anna Brandt and Bo are two entities
SPELLINGS = {
    "IOB2": (IOB2, "IOB2"),
    "IOB1": (["I-PER", "I-PER", "O", "I-PER", "O", "I-ORG", "I-ORG", "O", "I-LOC"], "IOB1"),
    "IOBES": (["B-PER", "E-PER", "O", "S-PER", "O", "B-ORG", "E-ORG", "O", "S-LOC"], "IOBES"),
    "BILOU": (["B-PER", "L-PER", "O", "U-PER", "O", "B-ORG", "L-ORG", "O", "U-LOC"], "BILOU"),
    "lower case": (["b-per", "i-per", "o", "b-per", "o", "b-org", "i-org", "o", "b-loc"],
                   "IOB2 with lower-case O, lower-case prefixes"),
    "underscores": (["B_PER", "I_PER", "O", "B_PER", "O", "B_ORG", "I_ORG", "O", "B_LOC"], "IOB2 with _-joined prefixes"),
    "suffixes": (["PER-B", "PER-I", "O", "PER-B", "O", "ORG-B", "ORG-I", "O", "LOC-B"], "IOB2 with suffixes"),
    "BIOES suffixes": (["PER-B", "PER-E", "O", "PER-S", "O", "ORG-B", "ORG-E", "O", "LOC-S"], "IOBES with suffixes"),
}


def read(path, **options):
    records = list(read_token_file(str(path), TokenReadOptions(**options)))
    return [record["tags"] for record in records], {record["scheme"] for record in records}


def write_conll(path, sentences):
    path.write_text("\n\n".join("\n".join(f"{w} {t}" for w, t in zip(words, tags)) for words, tags in sentences)
                    + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_scheme_is_read_as_the_iob2_it_means(tmp_path, spelling):
    tags, scheme = SPELLINGS[spelling]
    got, schemes = read(write_conll(tmp_path / "train.txt", [(WORDS, tags)]))
    expected = [t[:2] + t[2:].lower() if t != "O" else t for t in IOB2] if spelling == "lower case" else IOB2
    assert got == [expected]
    assert schemes == {scheme}


def test_io_tags_join_neighbours_of_one_type_and_keep_every_type(tmp_path):
    """IO: PER, ORG, MISC keep their names (not ER, RG, ISC), and ORG is not read as outside."""
    tags = ["PER", "PER", "O", "PER", "O", "ORG", "ORG", "O", "MISC"]
    got, schemes = read(write_conll(tmp_path / "io.txt", [(WORDS, tags)]))
    assert got == [["B-PER", "I-PER", "O", "B-PER", "O", "B-ORG", "I-ORG", "O", "B-MISC"]]
    assert schemes == {"IO"}


def test_pos_tags_are_left_as_they_are(tmp_path):
    tags = ["NNP", "NNP", "VBD", "NNP", "IN", "NNP", "NNP", "IN", "NNP"]
    path = write_conll(tmp_path / "pos.txt", [(WORDS, tags)])
    assert read(path, entity_tags=False) == ([tags], {"plain"})
    with pytest.raises(UserError, match=r"pos.txt:1: tag 'NNP' is neither O nor B-/I-prefixed .* --task_name pos"):
        read(path)


@pytest.mark.parametrize("tags,line,problem", [
    (["B-PER", "I-PER", "O", "PER", "O", "B-ORG", "I-ORG", "O", "B-LOC"], 4,
     "tag 'PER' has no B-/I- prefix but the rest of the file's tags have one (first 'B-PER' on line 1)"),
    (["B-PER", "E-PER", "O", "U-PER", "O", "B-ORG", "E-ORG", "O", "S-LOC"], 4,
     "tag 'U-PER' is BILOU (L-/U-) but the file also has IOBES tags (E-/S-)"),
])
def test_a_tag_that_does_not_fit_the_files_scheme_is_refused_on_its_line(tmp_path, tags, line, problem):
    with pytest.raises(UserError) as error:
        read(write_conll(tmp_path / "mixed.txt", [(WORDS, tags)]))
    assert str(error.value).startswith(f"{tmp_path / 'mixed.txt'}:{line}: {problem}")


def test_integer_tag_ids_are_named_by_the_label_file_or_refused(tmp_path):
    names = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    ids = [names.index(tag) for tag in IOB2]
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps({"tokens": WORDS, "ner_tags": ids}) + "\n", encoding="utf-8")
    assert read(path, id_names=names) == ([IOB2], {"IOB2 with integer ids"})
    with pytest.raises(UserError, match=r"train.jsonl:1: the tags are integer ids \('1'\) without names: pass "
                                        "--label_file"):
        read(path)
    with pytest.raises(UserError, match=r"train.jsonl:1: tag id 3 is past the 3 names of the label file"):
        read(path, id_names=names[:3])


def test_invalid_unicode_in_json_lines_is_an_error_on_its_line(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text('{"tokens": ["Anna", "ok"], "ner_tags": ["B-PER", "O"]}\n'
                    '{"tokens": ["\\ud83d", "x"], "ner_tags": ["O", "O"]}\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"train.jsonl:2: field .tokens. holds invalid Unicode"):
        read(path)


@pytest.mark.slow
def test_training_on_io_bioes_or_integer_tags_reads_the_same_gold_as_iob2(tiny_bert, tmp_path):
    """What a user checks: the same corpus written in another scheme trains with the same labels and is scored
    against the same gold entities, and the data report says what was converted."""
    sentences = [(WORDS, IOB2), (["Kofi", "left", "Acme", "."], ["B-PER", "O", "B-ORG", "O"])] * 4
    bioes = {"B-PER": "B-PER", "I-PER": "E-PER", "B-ORG": "B-ORG", "I-ORG": "E-ORG", "B-LOC": "S-LOC", "O": "O"}

    def as_bioes(tags):
        return [("S-" + tag[2:] if tag.startswith("B-") and (i + 1 == len(tags) or not tags[i + 1].startswith("I-"))
                 else bioes[tag]) for i, tag in enumerate(tags)]

    names = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    folders = {}
    for name, convert in (("iob2", list), ("again", list), ("io", lambda tags: [t[2:] if t != "O" else t for t in tags]),
                          ("bioes", as_bioes)):
        folders[name] = tmp_path / name
        folders[name].mkdir()
        for split in ("train", "dev"):
            write_conll(folders[name] / f"{split}.txt", [(words, convert(tags)) for words, tags in sentences])
    (tmp_path / "ids").mkdir()
    for split in ("train", "dev"):
        (tmp_path / "ids" / f"{split}.jsonl").write_text("".join(
            json.dumps({"tokens": words, "ner_tags": [names.index(t) for t in tags]}) + "\n" for words, tags in sentences))
    (tmp_path / "labels.txt").write_text("\n".join(names) + "\n")
    runs = {name: ["--data_dir", str(folder)] for name, folder in folders.items()}
    runs["ids"] = ["--train_file", str(tmp_path / "ids" / "train.jsonl"),
                   "--validation_file", str(tmp_path / "ids" / "dev.jsonl"), "--label_file", str(tmp_path / "labels.txt")]
    results = {}
    for name, data in runs.items():
        output = tmp_path / f"out-{name}"
        done = run_program("run_ner.py", "--model_name_or_path", tiny_bert, *data, "--output_dir", str(output),
                           "--do_train", "--do_eval", "--max_steps", "3", "--per_device_train_batch_size", "4",
                           "--learning_rate", "0.01", "--report_to", "none", "--save_strategy", "no",
                           "--return_entity_level_metrics", "--bootstrap_resamples", "0")
        assert done.returncode == 0, done.stderr[-2000:]
        metrics = json.loads((output / "eval_results.json").read_text())
        config = json.loads((output / "config.json").read_text())
        report = json.loads((output / "data_report.json").read_text())["splits"]["train"]
        results[name] = ({k: v for k, v in metrics.items() if "runtime" not in k and "per_second" not in k},
                         config["id2label"], report["entities"])
        assert report["scheme"] == {"iob2": "IOB2", "again": "IOB2", "io": "IO", "bioes": "IOBES", "ids": "IOB2 with integer ids"}[name]
    # the gold side of the scores (entities per type), the label set and the data report's entities are the same
    # whatever the spelling: IO's ORG is not read as outside nor PER as type ER. (The predicted side depends on a
    # model trained three steps, which is not compared.)
    gold = {name: {k: v for k, v in metrics.items() if k.endswith("_number")} for name, (metrics, _, _) in results.items()}
    assert gold["iob2"] == {"eval_LOC_number": 4, "eval_ORG_number": 8, "eval_PER_number": 12}
    for name in ("again", "io", "bioes", "ids"):
        assert gold[name] == gold["iob2"], name
        assert results[name][2] == results["iob2"][2] == {"PER": 12, "ORG": 8, "LOC": 4}, name
        assert results[name][0]["eval_f1"] > 0, name
    for name in ("again", "io", "bioes"):
        assert results[name][1] == results["iob2"][1], name  # the same label set: B-/I- of PER, ORG, LOC and O
    # the label file's order (and its unused I-LOC) makes another head
    assert sorted(results["ids"][1].values()) == sorted(list(results["iob2"][1].values()) + ["I-LOC"])


def test_integer_ids_without_names_stop_before_training_with_one_line(tiny_bert, tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps({"tokens": ["Anna", "ran"], "ner_tags": [1, 0]}) + "\n", encoding="utf-8")
    done = run_program("run_ner.py", "--model_name_or_path", tiny_bert, "--train_file", str(path),
                       "--validation_file", str(path), "--output_dir", str(tmp_path / "out"), "--do_train")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: {path}:1: the tags are integer ids ('1') without names")


def test_hub_integer_tags_are_named_by_the_datasets_classlabel_feature(monkeypatch):
    """The usual Hub dataset: integer ner_tags with a ClassLabel feature naming them (here IOB1-spelled names)."""
    import datasets

    from tunekit.data import token_data
    from tunekit.tasks.ner_arguments import NerDataArguments

    names = ["O", "I-PER", "I-ORG", "B-PER"]
    features = datasets.Features({"tokens": datasets.Sequence(datasets.Value("string")),
                                  "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names))})
    hub = datasets.DatasetDict({"train": datasets.Dataset.from_dict(
        {"tokens": [["Anna", "Bo", "met", "Acme"]], "ner_tags": [[1, 3, 0, 2]]}, features=features)})
    monkeypatch.setattr(token_data, "load_hub_dataset", lambda data_args, model_args: hub)
    splits = token_data.hub_sentences(NerDataArguments(dataset_name="someone/ner"), None)
    train, source = splits["train"]
    assert source == "someone/ner[train]"
    assert train[0]["tags"] == ["B-PER", "B-PER", "O", "B-ORG"] and train[0]["scheme"] == "IOB1 with integer ids"
