"""A token classifier with a linear-chain CRF on top: any encoder's token-classification model gives the
emission scores, the CRF learns label transitions and decodes with Viterbi.

Self-contained (torch, transformers and the BiLSTM tagger of the same folder): save_pretrained copies this file and
modeling_bilstm.py next to the weights, so the folder loads anywhere with
AutoModelForTokenClassification.from_pretrained(folder, trust_remote_code=True).

Training marginalises over pieces without a label (continuation pieces, [CLS], [SEP]), so the CRF runs over
every attended piece while only the labelled ones are supervised. Tags that follow BIO get hard transition
constraints: I-X only after B-X or I-X, and never first. In evaluation the returned logits are the emission
scores plus a large bonus on the Viterbi path, so their argmax is the CRF's decision (pipelines report a
score near 1 for it).
"""

import re

import torch
from torch import nn
from transformers import AutoModelForTokenClassification
from transformers.modeling_outputs import TokenClassifierOutput

from .modeling_bilstm import IGNORED, SETTINGS as BILSTM_SETTINGS, AroundAnEncoder, BilstmForTokenClassification

FORBIDDEN = -10000.0
PATH_BONUS = 1000.0


def bio_constraints(id2label):
    """(penalty[from][to], start_penalty[to]) as lists: FORBIDDEN where BIO forbids the move (I-X not after B-X
    or I-X, I-X first), 0 elsewhere; all 0 for other tag schemes. Plain Python, as models may be built on the
    meta device."""
    labels = [str(id2label[i]) for i in range(len(id2label))]
    count = len(labels)
    penalty = [[0.0] * count for _ in range(count)]
    start = [0.0] * count
    if not all(label == "O" or re.match(r"^[BI]-.", label) for label in labels):
        return penalty, start
    for to, label in enumerate(labels):
        if label.startswith("I-"):
            kind = label[2:]
            start[to] = FORBIDDEN
            for source, previous in enumerate(labels):
                if previous not in (f"B-{kind}", f"I-{kind}"):
                    penalty[source][to] = FORBIDDEN
    return penalty, start


class LinearChainCrf(nn.Module):
    """Transition scores with the forward algorithm (log partition) and Viterbi decoding, over masked batches."""

    def __init__(self, id2label):
        super().__init__()
        count = len(id2label)
        self.transitions = nn.Parameter(torch.zeros(count, count))
        self.start_transitions = nn.Parameter(torch.zeros(count))
        self.end_transitions = nn.Parameter(torch.zeros(count))
        # Plain lists, not buffers: from_pretrained builds models without running tensor initialisation,
        # and the constraints follow from the labels in the config anyway.
        self.transition_penalty, self.start_penalty = bio_constraints(id2label)

    def scores(self):
        """(transitions, start, end) with the forbidden moves pushed down."""
        like = self.transitions
        return (
            self.transitions + like.new_tensor(self.transition_penalty),
            self.start_transitions + like.new_tensor(self.start_penalty),
            self.end_transitions,
        )

    def log_partition(self, emissions, mask, allowed=None):
        """log of the summed scores of all paths (through `allowed` labels only, where given)."""
        transitions, start, end = self.scores()
        if allowed is not None:
            emissions = emissions.masked_fill(~allowed, FORBIDDEN)
        score = start + emissions[:, 0]
        for t in range(1, emissions.shape[1]):
            step = torch.logsumexp(score.unsqueeze(2) + transitions, dim=1) + emissions[:, t]
            score = torch.where(mask[:, t].unsqueeze(1), step, score)
        return torch.logsumexp(score + end, dim=1)

    def negative_log_likelihood(self, emissions, mask, labels, allowed_labels=None):
        """Per sequence: -log P(labelled positions | input), unlabelled positions summed over. allowed_labels (a
        boolean per position and label): the labels a labelled position may take, where more than its gold may
        be right (O of a corpus that does not annotate every type)."""
        labelled = (labels != IGNORED) & mask
        chosen = allowed_labels.to(emissions.device) if allowed_labels is not None else \
            nn.functional.one_hot(labels.clamp(min=0), emissions.shape[-1]).bool()
        allowed = torch.where(labelled.unsqueeze(2), chosen, torch.ones_like(emissions, dtype=torch.bool))
        return self.log_partition(emissions, mask) - self.log_partition(emissions, mask, allowed)

    def log_marginals(self, emissions, mask, temperature=1.0):
        """Each position's log probability of each label over all paths (forward-backward), with every score divided
        by `temperature`; positions outside the mask repeat the last one's. Differentiable: a CRF student learns
        its marginals from a teacher's."""
        transitions, start, end = (score / temperature for score in self.scores())
        emissions = emissions / temperature
        alphas = [start + emissions[:, 0]]
        for t in range(1, emissions.shape[1]):
            step = torch.logsumexp(alphas[-1].unsqueeze(2) + transitions, dim=1) + emissions[:, t]
            alphas.append(torch.where(mask[:, t].unsqueeze(1), step, alphas[-1]))
        last = end.expand_as(emissions[:, 0])
        betas = [last]
        for t in range(emissions.shape[1] - 2, -1, -1):
            step = torch.logsumexp(transitions.unsqueeze(0) + (emissions[:, t + 1] + betas[-1]).unsqueeze(1), dim=2)
            betas.append(torch.where(mask[:, t + 1].unsqueeze(1), step, last))
        log_partition = torch.logsumexp(alphas[-1] + end, dim=1)
        return torch.stack(alphas, 1) + torch.stack(betas[::-1], 1) - log_partition[:, None, None]

    def decoded_logits(self, emissions, mask):
        """The emissions with the Viterbi path raised by PATH_BONUS: an argmax over them reads the decoded labels."""
        path = self.viterbi(emissions, mask)
        return emissions + PATH_BONUS * nn.functional.one_hot(path, emissions.shape[-1]).to(emissions.dtype)

    def viterbi(self, emissions, mask):
        """The best label path of each sequence (positions outside the mask repeat the last label)."""
        transitions, start, end = self.scores()
        score = start + emissions[:, 0]
        history = []
        for t in range(1, emissions.shape[1]):
            best, previous = (score.unsqueeze(2) + transitions).max(dim=1)
            history.append(previous)
            score = torch.where(mask[:, t].unsqueeze(1), best + emissions[:, t], score)
        last = (score + end).argmax(dim=1)
        path = [last]
        for t in range(emissions.shape[1] - 1, 0, -1):
            back = history[t - 1].gather(1, path[-1].unsqueeze(1)).squeeze(1)
            path.append(torch.where(mask[:, t], back, path[-1]))
        return torch.stack(path[::-1], dim=1)


class CrfForTokenClassification(AroundAnEncoder):
    """`tagger` gives the emissions: the encoder's own token-classification model, or a BiLSTM tagger
    (config.tunekit_bilstm); `crf` decodes."""

    base_model_prefix = "tagger"
    computes_own_loss = True  # the sentence likelihood, not a per-token cross-entropy on the logits

    def __init__(self, config, tagger=None):
        super().__init__(config)
        if tagger is None:
            with_bilstm = getattr(config, BILSTM_SETTINGS, None)
            tagger = BilstmForTokenClassification(config) if with_bilstm else AutoModelForTokenClassification.from_config(config)
        self.tagger = tagger
        self.crf = LinearChainCrf(config.id2label)
        self.post_init()

    def _init_weights(self, module):
        # Only the CRF's own parameters: the tagger initialises (or has loaded) its weights itself.
        if isinstance(module, LinearChainCrf):
            for parameter in (module.transitions, module.start_transitions, module.end_transitions):
                nn.init.zeros_(parameter)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
                inputs_embeds=None, labels=None, allowed=None, sequence_weights=None, return_dict=None):
        """allowed (batch, length, labels; boolean): where a position may take more than its gold label;
        sequence_weights (batch): how much each sequence's likelihood counts in the loss (1 each by default).
        Neither name holds "label": Trainer takes every forward parameter that does for a label column."""
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask, "inputs_embeds": inputs_embeds}
        if token_type_ids is not None:
            inputs["token_type_ids"] = token_type_ids
        if position_ids is not None:
            inputs["position_ids"] = position_ids
        emissions = self.tagger(**inputs).logits.float()
        reference = input_ids if input_ids is not None else emissions[..., 0]
        mask = attention_mask.bool() if attention_mask is not None else torch.ones_like(reference, dtype=torch.bool)
        loss = None
        if labels is not None:
            losses = self.crf.negative_log_likelihood(emissions, mask, labels, allowed)
            loss = (losses * sequence_weights.to(losses) if sequence_weights is not None else losses).mean()
        logits = emissions if self.training else self.crf.decoded_logits(emissions, mask)
        return TokenClassifierOutput(loss=loss, logits=logits)
