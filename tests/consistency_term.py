"""An objective term kept outside the package, as a plug-in would ship one: the symmetric KL divergence between
the gold pass's predictions and a second pass of the same batch with other dropout (R-Drop, Liang et al. 2021).
It records what it returned, for the tests to check that its share reaches the training loss."""

import torch
import torch.nn.functional as F

RETURNED: list = []


class DropoutConsistency:
    def __call__(self, batch) -> torch.Tensor:
        second = batch.model(**batch.model_inputs)
        second_logits = second["logits"] if isinstance(second, dict) else second[0]
        first, other = F.log_softmax(batch.logits.float(), -1), F.log_softmax(second_logits.float(), -1)
        divergence = ((first.exp() - other.exp()) * (first - other)).sum(-1) / 2  # symmetric KL per item
        if divergence.dim() == 2:  # tokens: the attended positions only
            divergence = divergence[batch.attention_mask]
        share = batch.scale.of_mean(divergence.mean())
        RETURNED.append(float(share))
        return share


def consistency(settings) -> DropoutConsistency:
    """The factory --objective_terms names (tests.consistency_term:consistency): a function of the settings."""
    return DropoutConsistency()
