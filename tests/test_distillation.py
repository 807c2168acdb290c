"""--distill_from: students cut from their teacher, the soft-label loss (CRF marginals too), unlabelled text, the
student folder as a normal folder (eval.sh, predict.sh, ONNX int8, card, report), and one-line errors."""

import itertools
import json
import random

import pytest
import torch

from folders import copy_of, write_mrpc, write_stsb
from in_process import run_program
from conftest import quick_ner_flags

from tunekit.encoding import IGNORE_INDEX
from tunekit.encoding.row_attributes import UNLABELLED, RowAttributes
from tunekit.errors import UserError
from tunekit.modeling.student import cut_layers, kept_layers
from tunekit.modeling.taggers.modeling_crf import LinearChainCrf
from tunekit.training.distillation import SoftTargetTerm
from tunekit.training.objective import Batch, StepScale
from tunekit.training.soft_targets import ClassDistributions, LabelProbabilities, TokenDistributions, Values

TOKENS, ONE_LABEL, SEVERAL_LABELS, VALUES = TokenDistributions, ClassDistributions, LabelProbabilities, Values

EVAL, PREDICT = "scripts/eval.sh", "scripts/predict.sh"


def student_flags(output, *flags):
    """The quick NER profile without --model_name_or_path: the student is cut from its teacher."""
    quick = [str(flag) for flag in quick_ner_flags("MODEL", output, *flags)]
    at = quick.index("--model_name_or_path")
    return quick[:at] + quick[at + 2:]


def test_kept_layers_are_the_bottom_ones_or_as_named():
    assert kept_layers("3", 6, "t") == [0, 1, 2]
    assert kept_layers("2", 6, "t") == [0, 1]
    assert kept_layers(None, 6, "t") == [0, 1, 2]  # half, by default
    assert kept_layers("1,3,5", 6, "t") == [1, 3, 5]
    assert kept_layers("6", 6, "t") == list(range(6))
    assert kept_layers("0,1,2", 6, "t") == [0, 1, 2]
    with pytest.raises(UserError, match="has 6 layers, so a student keeps 1 to 6"):
        kept_layers("7", 6, "the teacher x")
    with pytest.raises(UserError, match="has layers 0 to 5"):
        kept_layers("0,6", 6, "the teacher x")


def test_a_cut_model_keeps_the_chosen_layers_weights_and_reloads_at_its_new_size(tiny_bert, tmp_path):
    from transformers import AutoModelForTokenClassification, BertConfig, BertForTokenClassification

    config = BertConfig.from_pretrained(tiny_bert, num_hidden_layers=4, num_labels=3)
    model = BertForTokenClassification(config)
    wanted = [model.bert.encoder.layer[index].attention.self.query.weight.clone() for index in (1, 3)]
    cut_layers(model, [1, 3])
    assert model.config.num_hidden_layers == 2 and len(model.bert.encoder.layer) == 2
    assert all(torch.equal(layer.attention.self.query.weight, weight)
               for layer, weight in zip(model.bert.encoder.layer, wanted))
    model.save_pretrained(tmp_path)
    again = AutoModelForTokenClassification.from_pretrained(tmp_path).eval()
    ids = torch.tensor([[101, 2000, 2001, 102]])
    assert torch.allclose(model.eval()(input_ids=ids).logits, again(input_ids=ids).logits, atol=1e-6)


def test_crf_marginals_match_every_path_summed_by_hand():
    torch.manual_seed(0)
    crf = LinearChainCrf({0: "O", 1: "B-X", 2: "I-X"})
    with torch.no_grad():
        for parameter in (crf.transitions, crf.start_transitions, crf.end_transitions):
            parameter.normal_()
    emissions, mask = torch.randn(2, 4, 3), torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]]).bool()
    marginals = crf.log_marginals(emissions, mask, temperature=1.5).exp()
    transitions, start, end = (score / 1.5 for score in crf.scores())
    for row, length in ((0, 4), (1, 3)):
        totals, partition = torch.zeros(length, 3), 0.0
        for path in itertools.product(range(3), repeat=length):
            score = start[path[0]] + end[path[-1]] + sum(emissions[row, t, path[t]] / 1.5 for t in range(length))
            score = score + sum(transitions[path[t - 1], path[t]] for t in range(1, length))
            weight = torch.exp(score)
            partition += weight
            for t in range(length):
                totals[t, path[t]] += weight
        assert torch.allclose(totals / partition, marginals[row, :length], atol=1e-5)  # I-X first: probability 0


class Logits(torch.nn.Module):
    """A model whose logits are given: a teacher or student of known outputs."""

    def __init__(self, logits):
        super().__init__()
        self.logits = logits
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def forward(self, **inputs):
        return type("Output", (), {"logits": self.logits + self.weight})()


@pytest.mark.parametrize("kind", [TOKENS, ONE_LABEL, SEVERAL_LABELS, VALUES])
def test_the_soft_loss_is_zero_when_the_student_says_what_the_teacher_says_and_grows_apart(kind):
    torch.manual_seed(1)
    shape = {TOKENS: (2, 5, 4), ONE_LABEL: (3, 4), SEVERAL_LABELS: (3, 4), VALUES: (3, 1)}[kind]
    logits = torch.randn(*shape)
    labels = torch.tensor([[IGNORE_INDEX, 1, 2, IGNORE_INDEX, 0], [IGNORE_INDEX, 0, 3, 1, IGNORE_INDEX]]) \
        if kind == TOKENS else torch.zeros(shape[0], dtype=torch.long)
    inputs = {"input_ids": torch.ones(shape[:2] if kind == TOKENS else (shape[0], 5), dtype=torch.long), "labels": labels}
    term = SoftTargetTerm(Logits(logits), kind(), kind(), 2.0)
    student = Logits(logits)
    same = term(Batch(student, student, inputs, {"logits": logits}, StepScale()))
    apart = term(Batch(student, student, inputs, {"logits": logits + torch.randn(*shape)}, StepScale()))
    if kind == SEVERAL_LABELS:  # binary cross-entropy: its least is the targets' entropy, not 0
        assert apart > same
    else:
        assert same.abs() < 1e-6 and apart > 1e-3
    # the second row is unlabelled (--distill_text): the teacher teaches its words, the gold loss skips them
    rows = RowAttributes(unlabelled=torch.tensor([0, 1] if kind == TOKENS else [0] * shape[0]))
    gold = rows.gold_labels(labels)
    assert (gold != IGNORE_INDEX).sum() == ((labels != IGNORE_INDEX).sum() - (3 if kind == TOKENS else 0))
    if kind == TOKENS:
        assert (gold[1] == IGNORE_INDEX).all() and torch.equal(gold[0], labels[0])


def test_a_teacher_with_its_labels_in_another_order_teaches_each_label_to_its_own_column():
    teacher = torch.tensor([[[3.0, 0.0, -3.0]]])
    columns = [2, 0, 1]  # student label i is the teacher's column columns[i]
    term = SoftTargetTerm(Logits(teacher), TokenDistributions(), TokenDistributions(), 1.0, columns)
    targets = term.teacher_targets({"input_ids": torch.ones(1, 1, dtype=torch.long)})
    assert torch.allclose(targets, torch.softmax(teacher, -1)[..., columns])


def test_unlabelled_text_joins_training_with_every_word_marked_for_the_teacher_alone(tiny_bert, tmp_path):
    from transformers import AutoTokenizer, TrainingArguments

    from tunekit.encoding.ner import NerEncoder
    from tunekit.encoding.unlabelled import with_unlabelled_text
    from tunekit.tasks.ner_arguments import NerDataArguments
    import datasets

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    label2id = {"O": 0, "B-PER": 1, "I-PER": 2}
    data_args = NerDataArguments(max_seq_length="16")
    train_rows = datasets.Dataset.from_dict({"tokens": [["Anna", "ate"]], "tags": [["B-PER", "O"]]}).map(
        NerEncoder(tokenizer, label2id, 16, 4, False), batched=True, with_indices=True, remove_columns=["tokens", "tags"])
    text = tmp_path / "text.txt"
    text.write_text("Tomasz Wiśniewski flew to Kraków.\n\n" + "word " * 30 + "\n", encoding="utf-8")
    joined = with_unlabelled_text(train_rows, str(text), tokenizer, label2id, 16, data_args,
                                  TrainingArguments(output_dir=str(tmp_path / "o"), use_cpu=True))
    assert joined[0]["labels"] == train_rows[0]["labels"]
    added = joined.select(range(1, len(joined)))
    assert len(added) > 2  # the 30-word line is read in overlapping windows, as training reads long sentences
    first_row = added[0]
    assert len([label for label in first_row["labels"] if label != IGNORE_INDEX]) == 6  # 6 words predicted
    assert joined[UNLABELLED] == [0] + [1] * len(added)  # a row attribute, not a marker in the labels
    marked = sum(label != IGNORE_INDEX for row in added for label in row["labels"])
    assert marked == 6 + 30  # every word once, whatever window owns it


def test_hidden_states_are_matched_layer_to_layer_and_only_at_equal_width(tiny_bert):
    from transformers import BertConfig, BertForTokenClassification

    from tunekit.training.hidden_matching import HiddenMatching, uniform_mapping

    assert uniform_mapping(3, 6) == [1, 3, 5] and uniform_mapping(2, 6) == [2, 5] and uniform_mapping(4, 4) == [0, 1, 2, 3]
    torch.manual_seed(0)
    config = BertConfig.from_pretrained(tiny_bert, num_labels=3)
    teacher = BertForTokenClassification(config).eval()
    student = BertForTokenClassification(config)
    student.load_state_dict(teacher.state_dict())
    student.train()
    for module in student.modules():  # no dropout: the same network gives the same layer outputs
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    matching = HiddenMatching(student, teacher, [0, 1], weight=2.0)
    ids, mask = torch.tensor([[101, 2000, 2001, 102]]), torch.ones(1, 4, dtype=torch.long)
    student(input_ids=ids, attention_mask=mask)
    with torch.no_grad():
        teacher(input_ids=ids, attention_mask=mask)
    assert matching.loss(mask).item() == pytest.approx(0.0, abs=1e-10)
    with torch.no_grad():
        student.bert.encoder.layer[1].output.dense.bias.add_(torch.randn(32))  # a constant would be normalised away
    student(input_ids=ids, attention_mask=mask)
    teacher(input_ids=ids, attention_mask=mask)
    assert matching.loss(mask).item() > 0.01
    narrow = BertForTokenClassification(BertConfig.from_pretrained(tiny_bert, hidden_size=16, num_attention_heads=2))
    with pytest.raises(UserError, match="16 wide where the teacher's are 32"):
        HiddenMatching(narrow, teacher, None, 1.0)


@pytest.fixture(scope="module")
def student(trained_crf, tmp_path_factory):
    """A 1-layer student of the tiny 2-layer CRF teacher, with unlabelled text."""
    text = tmp_path_factory.mktemp("text") / "tweets.txt"
    text.write_text("Anna Brandt visited Oslo on Tuesday.\n\nPeter flew to Berlin with Lufthansa.\n", encoding="utf-8")
    output = tmp_path_factory.mktemp("student") / "out"
    result = run_program(*student_flags(output, "--distill_from", trained_crf, "--student_layers", "1",
                                        "--distill_text", text, "--distill_hidden_weight", "0.5", "--save_strategy", "no"))
    assert result.returncode == 0, result.stderr[-3000:]
    return output


def test_the_student_is_the_teacher_cut_and_says_so_in_its_folder(student, trained_crf):
    config = json.loads((student / "config.json").read_text())
    assert config["num_hidden_layers"] == 1 and "crf" in json.dumps(config.get("auto_map", {})).lower()
    about = json.loads((student / "tunekit_args.json").read_text())["distillation"]
    assert about["teacher"] == str(trained_crf) and about["kept_layers"] == [0] and about["teacher_layers"] == 2
    assert about["distill_text"].endswith("tweets.txt") and "eval_f1" in about["teacher_results"]
    assert about["hidden_weight"] == 0.5
    assert "distill_from: " in (student / "run_config.yaml").read_text()
    card = (student / "README.md").read_text()
    teacher_f1 = f"{100 * json.loads((trained_crf / 'all_results.json').read_text())['eval_f1']:.2f}"
    assert "## Distillation" in card and f"| dev f1 | {teacher_f1} |" in card
    page = (student / "report.html").read_text()
    assert "id='teacher'" in page and teacher_f1 in page


def test_the_student_folder_evaluates_predicts_and_runs_as_int8(student, tmp_path):
    folder = copy_of(student, tmp_path)
    before = json.loads((folder / "eval_results.json").read_text())["eval_f1"]
    evaluated = run_program("sh", EVAL, folder)
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert json.loads((folder / "eval_results.json").read_text())["eval_f1"] == pytest.approx(before, abs=1e-6)
    text = "Anna Brandt visited Oslo .\n"
    exact = run_program("sh", PREDICT, folder, input_text=text)
    assert exact.returncode == 0 and json.loads(exact.stdout)["text"] == text.strip()
    assert run_program("sh", EVAL, folder, "--quantize", "int8").returncode == 0
    int8 = run_program("sh", PREDICT, folder, "--quantize", "int8", input_text=text)
    assert int8.returncode == 0, int8.stderr[-2000:]
    assert json.loads(int8.stdout)["text"] == text.strip()


def test_a_pair_classifier_is_distilled_into_a_student_of_its_own_size(trained_pairs, tmp_path):
    data = tmp_path / "mrpc"
    data.mkdir()
    write_mrpc(data, random.Random(2))
    # unlabelled pairs for the teacher alone: the training pairs the other way round, one tab between the texts
    rows = [line.split("\t") for line in (data / "train.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    text = tmp_path / "pairs.txt"
    text.write_text("".join(f"{second}\t{first}\n\n" for *_, first, second in rows), encoding="utf-8")
    output = tmp_path / "student"
    # batches of 2: many hold unlabelled pairs only, whose gold loss must be zero, not a mean over nothing
    result = run_program("run_glue.py", "--task_name", "mrpc", "--data_dir", data, "--distill_from", trained_pairs,
                         "--distill_text", text, "--output_dir", output, "--do_train", "--do_eval",
                         "--num_train_epochs", "1", "--per_device_train_batch_size", "2", "--max_seq_length", "32",
                         "--save_strategy", "no", "--report_to", "none")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"--distill_text: {len(rows)} texts from {text} ({len(rows)} model inputs) join {len(rows)} training" in result.stdout + result.stderr
    assert json.loads((output / "config.json").read_text())["num_hidden_layers"] == 1
    about = json.loads((output / "tunekit_args.json").read_text())["distillation"]
    assert about["weight"] == 0.5 and about["distill_text"] == str(text)
    train_loss = json.loads((output / "all_results.json").read_text())["train_loss"]
    assert 0 < train_loss < 100  # not NaN


def refused(*flags):
    result = run_program(*flags)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    return lines[-1]


def test_bad_teachers_and_students_get_one_line_each(trained_crf, trained_pairs, tiny_bert, tiny_roberta, tmp_path):
    def ner(*flags):
        return refused(*student_flags(tmp_path / "out", "--overwrite_output_dir", *flags))

    assert "a classification model, and this run trains ner" in ner("--distill_from", trained_pairs)
    assert "not a folder this suite trained" in ner("--distill_from", tiny_bert)
    assert "has 2 layers, so a student keeps 1 to 2" in ner("--distill_from", trained_crf, "--student_layers", "3")
    assert "has layers 0 to 1" in ner("--distill_from", trained_crf, "--student_layers", "0,4")
    assert "another tokenizer" in ner("--distill_from", trained_crf, "--model_name_or_path", tiny_roberta)
    assert "--distill_text applies to --distill_from" in ner("--distill_text", "x.txt")
    other = tmp_path / "other"
    other.mkdir()
    for name in ("train.txt", "dev.txt", "test.txt"):
        (other / name).write_text("Anna B-PER\nate O\nfigs B-FOOD\n", encoding="utf-8")
    assert "B-FOOD" in ner("--distill_from", trained_crf, "--data_dir", other)
    text = tmp_path / "bad.txt"
    text.write_bytes(b"fine text\n\xff\xfe broken\n")
    assert f"{text}:2: not UTF-8" in ner("--distill_from", trained_crf, "--distill_text", text)

    def glue(task, writer, *flags):
        data = tmp_path / task
        data.mkdir(exist_ok=True)
        writer(data, random.Random(0))
        return refused("run_glue.py", "--task_name", task, "--data_dir", data, "--output_dir", tmp_path / "out", "--overwrite_output_dir",
                       "--do_train", "--distill_from", trained_pairs, "--report_to", "none", *flags)

    single = tmp_path / "single.txt"
    single.write_text("one pair\tof texts\na lone text\n", encoding="utf-8")
    assert f"{single}:2: expected two texts separated by one tab" in glue("mrpc", write_mrpc, "--distill_text", single)
    assert "this data is regression" in glue("stsb", write_stsb, "--distill_text", single)


def test_a_model_can_be_cut_without_a_teacher(tiny_bert, tmp_path):
    """--student_layers alone: the ablation of the benchmark (the pretrained model cut, trained on gold labels)."""
    output = tmp_path / "out"
    result = run_program(*quick_ner_flags(tiny_bert, output, "--student_layers", "1", "--save_strategy", "no"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((output / "config.json").read_text())["num_hidden_layers"] == 1
    assert "distillation" not in json.loads((output / "tunekit_args.json").read_text())
