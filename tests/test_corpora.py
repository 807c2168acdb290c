"""--corpora: several NER corpora in one run, each with its own data, label map onto the unified label set and
weight; one-line errors naming the corpus (and file:line)."""

import itertools
import json

import pytest
import torch

from conftest import NER_SAMPLE, conll_sentences, quick_ner_flags
from in_process import run_program

from tunekit.data.corpora import Corpus, corpora_of
from tunekit.data.corpus_labels import mapped_tags, unify
from tunekit.encoding import IGNORE_INDEX
from tunekit.encoding.row_attributes import LabelSets, RowAttributes
from tunekit.encoding.corpus_mixing import mixed_rows, mixing_exponent, repeats
from tunekit.encoding.partial_labels import partial_label_sets
from tunekit.errors import UserError
from tunekit.evaluation.ner_scorer import TagScorer
from tunekit.tasks.ner_arguments import NerDataArguments
from tunekit.modeling.taggers.modeling_crf import LinearChainCrf
from tunekit.training.losses import CrossEntropyLoss

# in BIOES, where the news are IOB2: each corpus's scheme is read as IOB2 on its own
TWEETS = ("@anna\tS-person\nin\tO\nOslo\tS-location\n\tO\n\nlove\tO\nthe\tO\nstatoil\tS-company\nlads\tO\n\n"
          "bob\tB-person\nsmith\tE-person\n\n")


def tweets(folder, text=TWEETS):
    """A folder of tab-separated tweets (types person, location, company; an empty token as BTC has)."""
    folder.mkdir(exist_ok=True)
    for name in ("tweets.train", "tweets.dev", "tweets.test"):
        (folder / name).write_text(text * 8, encoding="utf-8")
    return folder


def test_command_line_items_and_a_configuration_list_are_the_same_corpora(tmp_path):
    folder = tweets(tmp_path / "tweets")
    items = corpora_of(["news=" + NER_SAMPLE, f"tweets={folder}", "tweets.weight=2",
                        "tweets.map=person:PER,location:LOC,company:ORG,other:O", "tweets.annotates=PER,LOC,ORG"])
    listed = [{"name": "news", "data_dir": NER_SAMPLE},
              {"name": "tweets", "data_dir": str(folder), "weight": 2, "annotates": ["PER", "LOC", "ORG"],
               "label_map": {"person": "PER", "location": "LOC", "company": "ORG", "other": None}}]
    assert items == corpora_of(listed)
    config = tmp_path / "corpora.yaml"
    config.write_text(f"""corpora:
  - {{name: news, data_dir: {NER_SAMPLE}}}
  - name: tweets
    data_dir: {folder}
    weight: 2
    annotates: [PER, LOC, ORG]
    label_map: {{person: PER, location: LOC, company: ORG, other: O}}
""", encoding="utf-8")
    assert items == corpora_of([str(config)])
    assert items[1] == Corpus("tweets", {"data_dir": str(folder)},
                              {"person": "PER", "location": "LOC", "company": "ORG", "other": None}, 2.0,
                              ("PER", "LOC", "ORG"))


def test_each_corpus_type_is_mapped_onto_its_unified_type_or_o():
    corpus = Corpus("tweets", {"data_dir": "x"}, {"person": "PER", "other": None})
    assert mapped_tags(["B-person", "I-person", "O", "B-other", "I-other", "B-LOC"], corpus, True) == \
        ["B-PER", "I-PER", "O", "O", "O", "B-LOC"]
    news, tagged = Corpus("news", {"data_dir": "n"}, {}), Corpus("tweets", {"data_dir": "t"}, {"person": "PER"})
    labels = unify([news, tagged], {"news": {"PER": ("n", 1), "MISC": ("n", 2)}, "tweets": {"person": ("t", 1)}})
    assert labels.unified == ("MISC", "PER") and labels.annotates == {"news": ("MISC", "PER"), "tweets": ("PER",)}


@pytest.mark.parametrize("value, problem", [
    (["news=a", "news=b"], "--corpora: two corpora are named 'news'"),
    ([{"name": "news", "data_dir": "a"}, {"name": "news", "data_dir": "b"}], "--corpora: two corpora are named 'news'"),
    (["news=a", "news.wieght=2"], "corpus 'news': unknown key 'wieght'; did you mean weight?"),
    (["news=a", "news.weight=heavy"], "corpus 'news': weight must be a number, not 'heavy'"),
    (["news=a", "news.weight=0"], "corpus 'news': weight must be above 0"),
    (["news=a", "news.map=person-PER"], "corpus 'news': map=person-PER: write the map as THEIRS:UNIFIED pairs"),
    (["news.weight=2"], "corpus 'news': no data"),
    (["news"], "--corpora: 'news' is neither NAME=PATH, NAME.KEY=VALUE nor a .yaml/.json file"),
    ([{"data_dir": "a"}], "--corpora item 1: no name"),
])
def test_bad_corpus_descriptions_get_one_line_each(value, problem):
    with pytest.raises(UserError) as error:
        corpora_of(value)
    assert str(error.value).startswith(problem)


def test_labels_that_do_not_fit_the_unified_set_are_named_with_their_corpus_and_line():
    news, tagged = Corpus("news", {"data_dir": "n"}, {}), Corpus("tweets", {"data_dir": "t"}, {"person": "PERSON"})
    used = {"news": {"PER": ("news.txt", 3)}, "tweets": {"person": ("t.train", 1), "company": ("t.train", 7)}}
    with pytest.raises(UserError, match=r"^corpus 'tweets': its label map sends person to PERSON, which is not in "
                                        r"the unified label set \(LOC, PER, from the label file labels.txt\)$"):
        unify([news, tagged], used, ["LOC", "PER"], "the label file labels.txt")
    with pytest.raises(UserError, match=r"^t.train:7: corpus 'tweets' uses company, which is not covered by its label "
                                        r"map: map it onto one of PER, PERSON, or onto O$"):
        unify([news, tagged], used)
    with pytest.raises(UserError, match=r"^news.txt:3: corpus 'news' uses PER, which is not in the unified label set"):
        unify([news], used, ["LOC"])
    told = Corpus("tweets", {"data_dir": "t"}, {"person": "PER", "company": None}, annotates=("PER", "FOOD"))
    with pytest.raises(UserError, match=r"^corpus 'tweets': annotates FOOD, which is not in the unified label set"):
        unify([news, told], used)


def corpora_flags(model, output, *items):
    """The quick NER profile with --corpora instead of --data_dir."""
    flags = [str(flag) for flag in quick_ner_flags(model, output)]
    at = flags.index("--data_dir")
    return flags[:at] + flags[at + 2:] + ["--corpora", *map(str, items)]


def news_in_documents(folder):
    """The bundled sample with a -DOCSTART- line before every 5 sentences: a corpus of documents, as CoNLL-2003."""
    folder.mkdir()
    for name in ("train.txt", "dev.txt", "test.txt"):
        sentences = open(f"{NER_SAMPLE}/{name}", encoding="utf-8").read().strip().split("\n\n")
        text = "".join(("-DOCSTART- O\n\n" if index % 5 == 0 else "") + sentence + "\n\n"
                       for index, sentence in enumerate(sentences))
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("head", [[], ["--use_crf", "--document_context", "16"], ["--use_bilstm", "--corpus_mixing", "0.9", "--max_seq_length", "12"]],
                         ids=["softmax", "crf-documents", "bilstm-mixed"])
def test_a_run_trains_on_both_corpora_in_the_unified_labels(tiny_bert, tmp_path, head):
    folder = tweets(tmp_path / "tweets")
    news = news_in_documents(tmp_path / "news") if "--document_context" in head else NER_SAMPLE
    output = tmp_path / "out"
    result = run_program(*corpora_flags(tiny_bert, output, f"news={news}", f"tweets={folder}", "tweets.weight=3",
                                        "tweets.map=person:PER,location:LOC,company:O"), *head)
    assert result.returncode == 0, result.stderr[-3000:]
    config = json.loads((output / "config.json").read_text())
    assert set(config["label2id"]) == {"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"}
    log = result.stdout + result.stderr
    assert "Corpus tweets (weight 3): train 24 sentences" in log and "annotates LOC, PER;" in log
    if "--document_context" in head:  # the news's documents are read whole; each tweet is a document of its own
        assert "train: 72 sentences in 34 documents" in log
    elif "--corpus_mixing" in head:  # shares 3 x 24^0.9 and 48^0.9: the tweets are drawn 3.22 times
        assert "Corpus mixing (exponent 0.9): news 48 sentences x1.00, tweets 24 sentences x3.22 per epoch" in log
        # windows of 12 word pieces: every word of both corpora's test sentences is predicted
        words = [len(sentence.splitlines()) for sentence in
                 open(f"{news}/test.txt", encoding="utf-8").read().strip().split("\n\n")[:16] + (TWEETS.strip().split("\n\n") * 8)[:16]]
        assert [len(sentence) for sentence in conll_sentences(output / "predictions.txt")] == words
    else:
        assert "Corpus mixing (exponent 1): news 48 sentences x1.00, tweets 24 sentences x3.00 per epoch" in log
    assert json.loads((output / "all_results.json").read_text())["train_samples"] == 48 + 24
    # the folder records the corpora; the tweets leave MISC and ORG open where they say O
    news, tagged = config["corpora"]
    assert news["annotates"] == ["LOC", "MISC", "ORG", "PER"] and news["partial_set"] is None
    assert tagged["label_map"] == {"person": "PER", "location": "LOC", "company": None} and tagged["partial_set"] == 0
    open_labels = {label for label, index in config["label2id"].items() if index in config["partial_label_sets"][0]}
    assert open_labels == {"O", "B-MISC", "I-MISC", "B-ORG", "I-ORG"}
    results = json.loads((output / "all_results.json").read_text())
    assert 0 < results["train_loss"] < 100
    # each corpus scored on its own, with intervals and error analysis, beside the line for all
    for prefix in ("eval", "predict"):
        for corpus, sentences in (("news", 16), ("tweets", 16)):
            assert f"{prefix}[{corpus}]_f1" in results and f"{prefix}[{corpus}]_f1_ci_high" in results
            assert f"{prefix}[{corpus}]_errors_missed" in results and results[f"{prefix}[{corpus}]_samples"] == sentences
    assert json.loads((output / "predict[tweets]_results.json").read_text())["predict[tweets]_f1"] == results["predict[tweets]_f1"]
    assert "dev tweets" in result.stdout and "test news" in result.stdout
    page = (output / "report.html").read_text()
    assert "Error analysis: dev, tweets" in page and "Per-type scores: test, news" in page
    if not head:  # eval.sh scores each corpus again as training did; predict.sh answers in the unified labels
        before = {key: value for key, value in results.items() if key.startswith("eval[tweets]_")}
        assert run_program("sh", "scripts/eval.sh", output).returncode == 0
        again = json.loads((output / "all_results.json").read_text())
        assert {key: again[key] for key in before} == pytest.approx(before)
        predicted = run_program("sh", "scripts/predict.sh", output, input_text="bob smith in Oslo\n")
        assert predicted.returncode == 0 and json.loads(predicted.stdout)["text"] == "bob smith in Oslo"
        from starlette.testclient import TestClient

        from tunekit.programs.serve import make_app
        with TestClient(make_app(str(output))) as client:  # the server answers as predict.sh does
            assert client.post("/predict", json=["bob smith in Oslo"]).json() == [json.loads(predicted.stdout)]
        # fine-tuned again on one corpus, the folder forgets the corpora
        again = run_program(*quick_ner_flags(output, tmp_path / "again"))
        assert again.returncode == 0, again.stderr[-2000:]
        assert json.loads((tmp_path / "again" / "config.json").read_text()).get("corpora") is None
    card = (output / "README.md").read_text()
    assert "## Corpora" in card and "| tweets | data_dir `tweets` | 3.0 | LOC, PER | company → O, location → LOC, person → PER |" in card
    assert f"| tweets | {results['eval[tweets]_f1']:.4f} [" in card and str(tmp_path) not in card


def test_bad_corpora_stop_the_run_naming_the_corpus(tiny_bert, tmp_path):
    folder = tweets(tmp_path / "tweets")
    broken = tweets(tmp_path / "broken", "Anna\tB-person\nsaid O\tO\tO\n")

    def refused(*items, flags=()):
        result = run_program(*corpora_flags(tiny_bert, tmp_path / "out", *items), *flags)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
        return result.stderr.strip().splitlines()[-1]

    assert refused(f"news={NER_SAMPLE}", f"tweets={folder}", "tweets.map=person:PER,location:LOC") == (
        f"error: {folder}/tweets.train:6: corpus 'tweets' uses company, which is not covered by its label map: map it "
        "onto one of LOC, MISC, ORG, PER, or onto O")
    assert refused(f"news={NER_SAMPLE}", f"broken={broken}").startswith(
        f"error: corpus 'broken': {broken}/tweets.train:2: expected 2 columns")
    tagged = tweets(tmp_path / "tagged", "Anna\tNNP\nsaid\tVBD\n\n")
    assert f"corpus 'tagged': {tagged}/tweets.train:1: tag 'NNP' is neither O nor B-/I-prefixed" in refused(
        f"news={NER_SAMPLE}", f"tagged={tagged}")
    unseen = tweets(tmp_path / "unseen")  # a type its dev uses and no corpus trains on: named with its corpus
    (unseen / "tweets.dev").write_text("pizza\tB-FOOD\n\n", encoding="utf-8")
    assert refused(f"news={NER_SAMPLE}", f"unseen={unseen}").startswith(
        f"error: corpus 'unseen': {unseen}/tweets.dev:1: label 'B-FOOD' is not in the training data")
    assert "--corpora names each corpus's data: leave out --data_dir" in refused(
        f"news={NER_SAMPLE}", flags=("--data_dir", NER_SAMPLE))


LABELS = ["B-MISC", "B-PER", "I-MISC", "I-PER", "O"]


def test_a_corpus_that_leaves_a_type_out_allows_it_wherever_it_says_o():
    assert partial_label_sets(LABELS, {"news": ("MISC", "PER"), "tweets": ("PER",)}) == {"tweets": [0, 2, 4]}
    assert partial_label_sets(["NN", "VB"], {"a": ("NN",)}) == {}  # POS tags: no O to leave open


def test_the_softmax_loss_counts_o_and_the_left_out_labels_together():
    torch.manual_seed(0)
    logits = torch.randn(1, 3, len(LABELS))
    labels = torch.tensor([[1, 4, IGNORE_INDEX]])  # B-PER; O; not a word
    sets = LabelSets(outside=4, sets=((0, 2, 4),), count=len(LABELS))
    loss = CrossEntropyLoss(label_sets=sets)({"logits": logits}, labels, rows=RowAttributes(torch.tensor([0])))
    probabilities = logits[0].softmax(-1)
    expected = -(probabilities[0, 1].log() + probabilities[1, [0, 2, 4]].sum().log()) / 2
    assert loss == pytest.approx(expected.item(), abs=1e-5)
    plain = CrossEntropyLoss(label_sets=sets)({"logits": logits}, labels, rows=RowAttributes(torch.tensor([-1])))
    assert plain == pytest.approx(CrossEntropyLoss()({"logits": logits}, labels).item())  # a row of a full corpus
    assert plain > loss  # O alone is less likely than O or MISC
    # a row's weight scales its items' losses; the divisor stays the items of the step
    twice = CrossEntropyLoss(label_sets=sets)({"logits": logits}, labels,
                                              rows=RowAttributes(torch.tensor([0]), weight=torch.tensor([2.0])))
    assert twice == pytest.approx(2 * loss.item(), rel=1e-6)


def test_the_crf_likelihood_sums_every_path_through_the_allowed_labels():
    torch.manual_seed(0)
    labels = {0: "O", 1: "B-X", 2: "I-X"}
    crf = LinearChainCrf(labels)
    with torch.no_grad():
        for parameter in (crf.transitions, crf.start_transitions, crf.end_transitions):
            parameter.normal_()
    emissions, mask = torch.randn(1, 3, 3), torch.ones(1, 3, dtype=torch.bool)
    gold = torch.tensor([[1, 0, 0]])  # B-X, then O that may be X (a corpus without X says O there), then O
    open_at = LabelSets(outside=0, sets=((0, 1, 2),), count=3).allowed(gold, torch.tensor([[-1, 0, -1]]))
    transitions, start, end = crf.scores()

    def total(paths):
        return torch.logsumexp(torch.stack([
            start[p[0]] + end[p[-1]] + sum(emissions[0, t, p[t]] for t in range(3))
            + sum(transitions[p[t - 1], p[t]] for t in range(1, 3)) for p in paths]), 0)

    every = list(itertools.product(range(3), repeat=3))
    allowed = [p for p in every if p[0] == 1 and p[2] == 0]
    expected = total(every) - total(allowed)
    assert crf.negative_log_likelihood(emissions, mask, gold, open_at)[0].item() == pytest.approx(expected.item(), abs=1e-4)


def test_mixing_repeats_the_corpora_to_their_shares_and_drops_no_row():
    sizes = {"news": 14000, "tweets": 6300}
    assert repeats(sizes, {"news": 1, "tweets": 1}, 1.0) == {"news": 1.0, "tweets": 1.0}
    tempered = repeats(sizes, {"news": 1, "tweets": 1}, 0.5)
    assert tempered["news"] == pytest.approx(1.0) and tempered["tweets"] == pytest.approx((14000 / 6300) ** 0.5)
    weighted = repeats(sizes, {"news": 1, "tweets": 4}, 1.0)
    assert weighted["news"] == pytest.approx(1.0) and weighted["tweets"] == pytest.approx(4.0)
    import datasets

    rows = datasets.Dataset.from_dict({"row": list(range(10))})
    mixed = mixed_rows(rows, ["news"] * 6 + ["tweets"] * 4, {"news": 6, "tweets": 4}, {"news": 1, "tweets": 1.25}, 1.0,
                       seed=0)
    counts = {row: mixed["row"].count(row) for row in range(10)}
    assert all(counts[row] == 1 for row in range(6)) and sum(counts[row] for row in range(6, 10)) == 5
    assert min(counts[row] for row in range(6, 10)) >= 1
    assert mixing_exponent("tempered") == 0.5 and mixing_exponent("0.7") == 0.7
    with pytest.raises(ValueError, match="--corpus_mixing must be proportional, tempered or an exponent"):
        mixing_exponent("1.5")


PREDICTED = [["B-PER", "O", "B-MISC", "I-MISC"], ["B-PER", "O", "B-MISC"]]  # MISC on a tweet: not annotated there


def two_corpus_scorer(names=("news", "tweets")) -> tuple:
    """A scorer of a news sentence and a tweet (named as given), and its scores of PREDICTED."""
    tokens = [["Anna", "saw", "Euro", "2024"], ["bob", "at", "wembley"]]
    gold = [["B-PER", "O", "B-MISC", "I-MISC"], ["B-PER", "O", "B-LOC"]]
    scorer = TagScorer(tokens, NerDataArguments(), list(names), dict(zip(names, (("MISC", "PER"), ("LOC", "PER")))))
    return scorer, scorer.scores_of(PREDICTED, gold)


def test_each_corpus_is_scored_on_its_own_types_and_all_on_what_each_annotates():
    scorer, scored = two_corpus_scorer()
    predicted = PREDICTED
    assert scored.predicted == predicted  # the writers get what the model said
    assert scored.metrics["precision"] == 1.0 and scored.metrics["recall"] == 0.75  # the MISC is no false positive
    (news, _, news_scored), (tweets, part, tweets_scored) = scorer.parts(scored)
    assert (news, tweets) == ("news", "tweets") and news_scored.metrics["f1"] == 1.0
    assert tweets_scored.metrics["precision"] == 1.0 and tweets_scored.metrics["recall"] == 0.5
    assert part.error_analysis(tweets_scored)["totals"]["spurious"] == 0


def test_the_seeds_table_shows_each_corpus_after_its_split():
    from tunekit.programs.seeds import shown_keys

    figure = {"mean": 0.5, "std": 0.0, "min": 0.5, "max": 0.5, "values": [0.5]}
    keys = ["eval_f1", "eval_samples", "eval[news]_f1", "eval[news]_samples", "eval[tweets]_f1", "eval[tweets]_samples",
            "eval_mm_f1", "eval_mm_samples", "predict_f1", "predict_samples", "predict[tweets]_f1",
            "predict[tweets]_samples", "train_runtime"]
    assert shown_keys(dict.fromkeys(keys, figure)) == [
        "eval_f1", "eval[news]_f1", "eval[tweets]_f1", "eval_mm_f1", "predict_f1", "predict[tweets]_f1", "train_runtime"]


@pytest.mark.parametrize("name", ["span", "mm", "test", "f1"])
def test_a_corpus_named_like_a_split_or_a_metric_keeps_keys_of_its_own(tmp_path, name):
    """Per-corpus scores live in their own key space: a corpus named span does not overwrite the split's
    eval_span_f1, one named mm is not MNLI's mismatched dev, test is not the test split, f1 not a metric."""
    from tunekit.evaluation.run import corpus_parts
    from tunekit.files import save_results
    from tunekit.splits import short_name, split_and_part, title

    scorer, scored = two_corpus_scorer(("news", name))
    split_metrics = {f"eval_{key}": value for key, value in scored.metrics.items()}
    parts = corpus_parts(scorer, scored, "eval", resamples=20, seed=0)
    assert set(parts) == {"eval[news]", f"eval[{name}]"}
    part_metrics, _ = parts[f"eval[{name}]"]
    assert not set(part_metrics) & set(split_metrics)  # eval_span_f1 stays the split's own
    assert all(key.startswith(f"eval[{name}]_") for key in part_metrics)
    assert (short_name(f"eval[{name}]"), title(f"eval[{name}]")) == (f"dev {name}", f"dev, {name}")
    assert split_and_part(f"eval[{name}]")[1] == name and split_and_part("eval_mm") is None
    save_results(str(tmp_path), "eval", split_metrics)
    save_results(str(tmp_path), f"eval[{name}]", part_metrics)
    results = json.loads((tmp_path / "all_results.json").read_text())
    assert {key: results[key] for key in split_metrics} == split_metrics
    assert (tmp_path / "eval_results.json").exists() and (tmp_path / f"eval[{name}]_results.json").exists()


def test_mixing_shares_count_sentences_not_rows():
    """With document context 140 news sentences fill 10 windows, and 60 tweets are 60 rows: the news is the larger
    corpus, so proportional mixing repeats nothing and tempered mixing repeats the tweets."""
    import datasets

    rows = datasets.Dataset.from_dict({"row": list(range(70))})
    corpora, sentences = ["news"] * 10 + ["tweets"] * 60, {"news": 140, "tweets": 60}
    assert len(mixed_rows(rows, corpora, sentences, {"news": 1, "tweets": 1}, 1.0, seed=0)) == 70
    tempered = mixed_rows(rows, corpora, sentences, {"news": 1, "tweets": 1}, 0.5, seed=0)
    assert tempered["row"].count(0) == 1 and len(tempered) == 10 + round(60 * (140 / 60) ** 0.5)
