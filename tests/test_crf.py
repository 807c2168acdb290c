"""--use_crf: the CRF's algorithms against brute force, its BIO constraints, and the saved folder in use."""

import itertools
import json

import pytest
import torch
from transformers import AutoModelForTokenClassification, pipeline

from tunekit.modeling.taggers.modeling_crf import FORBIDDEN, LinearChainCrf, bio_constraints

from folders import copy_of
from conftest import conll_sentences, run_program

LABELS = dict(enumerate(["B-LOC", "B-PER", "I-LOC", "I-PER", "O"]))


def random_crf(seed=0):
    torch.manual_seed(seed)
    crf = LinearChainCrf(LABELS)
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.normal_()
    return crf


def path_score(crf, emissions, path):
    transitions, start, end = crf.scores()
    score = start[path[0]] + emissions[0, 0, path[0]] + end[path[-1]]
    for t in range(1, len(path)):
        score = score + transitions[path[t - 1], path[t]] + emissions[0, t, path[t]]
    return score


def test_partition_and_viterbi_match_brute_force():
    crf, emissions = random_crf(), torch.randn(1, 4, 5)
    mask = torch.ones(1, 4, dtype=torch.bool)
    paths = list(itertools.product(range(5), repeat=4))
    scores = torch.stack([path_score(crf, emissions, path) for path in paths])
    assert crf.log_partition(emissions, mask).item() == pytest.approx(torch.logsumexp(scores, 0).item(), rel=1e-5)
    assert tuple(crf.viterbi(emissions, mask)[0].tolist()) == paths[int(scores.argmax())]


def test_unlabelled_positions_are_summed_over_and_padding_is_ignored():
    crf, emissions = random_crf(1), torch.randn(1, 4, 5)
    mask = torch.ones(1, 4, dtype=torch.bool)
    labels = torch.tensor([[-100, 1, -100, 4]])
    paths = [p for p in itertools.product(range(5), repeat=4) if p[1] == 1 and p[3] == 4]
    numerator = torch.logsumexp(torch.stack([path_score(crf, emissions, p) for p in paths]), 0)
    expected = crf.log_partition(emissions, mask) - numerator
    assert crf.negative_log_likelihood(emissions, mask, labels).item() == pytest.approx(expected.item(), rel=1e-5)
    assert crf.negative_log_likelihood(emissions, mask, torch.full((1, 4), -100)).item() == pytest.approx(0, abs=1e-5)
    # Padding after position 2 changes nothing.
    padded = torch.cat([emissions[:, :2], torch.randn(1, 3, 5)], dim=1)
    short_mask = torch.tensor([[True, True, False, False, False]])
    assert crf.log_partition(padded, short_mask).item() == pytest.approx(
        crf.log_partition(emissions[:, :2], mask[:, :2]).item(), rel=1e-5)


def test_bio_constraints_forbid_inside_tags_without_their_begin():
    penalty, start = bio_constraints(LABELS)
    assert start == [0.0, 0.0, FORBIDDEN, FORBIDDEN, 0.0]
    assert penalty[4][2] == FORBIDDEN and penalty[1][2] == FORBIDDEN  # O -> I-LOC, B-PER -> I-LOC
    assert penalty[0][2] == 0.0 and penalty[2][2] == 0.0  # B-LOC -> I-LOC, I-LOC -> I-LOC
    assert bio_constraints({0: "NOUN", 1: "VERB"}) == ([[0.0, 0.0], [0.0, 0.0]], [0.0, 0.0])
    # Emissions that prefer I-LOC everywhere still decode to a valid path.
    crf = LinearChainCrf(LABELS)
    emissions = torch.zeros(1, 5, 5)
    emissions[..., 2] = 3.0
    path = [LABELS[i] for i in crf.viterbi(emissions, torch.ones(1, 5, dtype=torch.bool))[0].tolist()]
    assert path[0] != "I-LOC" and all(not b.startswith("I-") or a[2:] == b[2:] for a, b in zip(path, path[1:]))


@pytest.mark.slow
def test_crf_run_saves_a_folder_that_loads_anywhere_and_evaluates_again(trained_crf, tmp_path):
    output = copy_of(trained_crf, tmp_path)  # eval.sh writes into it
    assert (output / "modeling_crf.py").exists()
    config = json.load(open(output / "config.json"))
    assert config["architectures"] == ["CrfForTokenClassification"]
    model = AutoModelForTokenClassification.from_pretrained(str(output), trust_remote_code=True)
    assert type(model).__name__ == "CrfForTokenClassification"
    tagger = pipeline("token-classification", model=str(output), trust_remote_code=True, aggregation_strategy="simple")
    entities = tagger("Anna Brandt visited Oslo on Tuesday .")
    assert entities and all(e["entity_group"] in {"PER", "ORG", "LOC", "MISC"} for e in entities)
    predicted = [row[-1] for sentence in conll_sentences(output / "predictions.txt") for row in sentence]
    assert predicted and any(tag != "O" for tag in predicted)
    first = json.load(open(output / "eval_results.json"))["eval_f1"]
    again = run_program("sh", "scripts/eval.sh", str(output))
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.load(open(output / "eval_results.json"))["eval_f1"] == pytest.approx(first)
