"""A sequence classifier that reads the text (or pair) vector from the encoder's last layer by mean, max or learned
attention pooling over the tokens, padding excluded (--sentence_pooling), and, for long texts read in chunks,
pools the chunks' vectors with a learned attention trained end to end (--chunk_pooling attention).

Self-contained (torch and transformers only): save_pretrained copies this file next to the weights, so the
folder loads anywhere with AutoModelForSequenceClassification.from_pretrained(folder, trust_remote_code=True).
The choices live in config.tunekit_pooling. With chunk attention an input row holds a text's chunks end to
end, each chunk_length long (the last may be shorter); the model reads every chunk alone and pools them.
"""

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

# config attribute: {"tokens": mean|max|attention|cls, "chunks": attention|None, "chunk_length", "pairs": siamese|None}
SETTINGS = "tunekit_pooling"
TOKEN_POOLINGS = ("cls", "mean", "max", "attention")


class AttentionPooling(nn.Module):
    """A learned scoring of each position; the vector is the softmax-weighted sum over the positions a mask keeps."""

    def __init__(self, width):
        super().__init__()
        self.score = nn.Linear(width, 1)

    def weights(self, states, mask):
        """(rows, positions) weights: zero outside the mask, summing to one over it (all zero for an empty row)."""
        scores = self.score(states).squeeze(-1).float().masked_fill(~mask, float("-inf"))
        return torch.softmax(scores, dim=-1).nan_to_num(0.0)

    def forward(self, states, mask):
        return torch.einsum("rp,rpw->rw", self.weights(states, mask).to(states.dtype), states)


def pool_tokens(states, mask, how, attention=None):
    """One vector per row of token states: the first token's, or the mean, max or attention over the mask."""
    if how == "cls":
        return states[:, 0]
    if how == "attention":
        return attention(states, mask)
    kept = mask.unsqueeze(-1)
    if how == "max":
        return states.masked_fill(~kept, torch.finfo(states.dtype).min).max(dim=1).values
    summed = (states * kept.to(states.dtype)).sum(dim=1)
    return summed / kept.sum(dim=1).clamp(min=1).to(states.dtype)


def classification_loss(logits, labels, config):
    """The loss of the config's problem type (as transformers' own sequence classifiers compute it)."""
    if config.problem_type == "regression":
        return nn.functional.mse_loss(logits.squeeze(-1).float(), labels.float())
    if config.problem_type == "multi_label_classification":
        return nn.functional.binary_cross_entropy_with_logits(logits.float(), labels.float())
    return nn.functional.cross_entropy(logits.float().view(-1, logits.shape[-1]), labels.view(-1))


def split_pair(input_ids, attention_mask, token_type_ids):
    """A batch of pairs encoded together ([CLS] a [SEP] b [SEP], types 0 then 1) as two batches read apart:
    ([CLS] a [SEP], its mask), ([CLS] b [SEP], its mask); the second takes the row's own first token as [CLS]."""
    kept = attention_mask.bool()
    first = kept & (token_type_ids == 0)
    second = kept & (token_type_ids == 1)
    length_a, length_b = first.sum(dim=1), second.sum(dim=1)
    # Cut to the longest text of each side, except in an export, whose graph cannot depend on the values.
    exporting = torch.compiler.is_exporting()
    width_a = input_ids.shape[1] if exporting else int(length_a.max())
    ids_a, mask_a = input_ids[:, :width_a], first[:, :width_a]
    steps = torch.arange(input_ids.shape[1] if exporting else int(length_b.max()), device=input_ids.device)
    where = (length_a.unsqueeze(1) + steps).clamp(max=input_ids.shape[1] - 1)
    mask_b = steps.unsqueeze(0) < length_b.unsqueeze(1)
    ids_b = input_ids.gather(1, where).masked_fill(~mask_b, 0)
    ids_b = torch.cat([input_ids[:, :1], ids_b], dim=1)
    mask_b = torch.cat([mask_b.new_ones(mask_b.shape[0], 1), mask_b], dim=1)
    return (ids_a.masked_fill(~mask_a, 0), mask_a.long()), (ids_b, mask_b.long())


class PooledForSequenceClassification(PreTrainedModel):
    """encoder (without its pooler) -> token pooling -> (chunk attention) -> dropout -> linear; with siamese pairs
    each text is read alone and the classifier sees (u, v, |u - v|, u * v), as Sentence-BERT's classifier."""

    config_class = AutoConfig  # type: ignore[assignment]  # any config: the model inside says which
    base_model_prefix = "encoder"
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_attention_backend = True

    def __init__(self, config, encoder=None):
        super().__init__(config)
        settings = getattr(config, SETTINGS)
        self.token_pooling = settings.get("tokens", "mean")
        self.chunk_length = settings.get("chunk_length") if settings.get("chunks") == "attention" else None
        self.encoder = encoder if encoder is not None else AutoModel.from_config(config)
        if getattr(self.encoder, "pooler", None) is not None:
            self.encoder.pooler = None  # unused: its weights would get no gradient (several processes object)
        width = config.hidden_size
        self.token_attention = AttentionPooling(width) if self.token_pooling == "attention" else None
        self.chunk_attention = AttentionPooling(width) if self.chunk_length else None
        self.siamese = settings.get("pairs") == "siamese"
        dropout = getattr(config, "classifier_dropout", None)
        self.dropout = nn.Dropout(dropout if dropout is not None else getattr(config, "hidden_dropout_prob", 0.1))
        self.classifier = nn.Linear(4 * width if self.siamese else width, config.num_labels)
        self.post_init()

    def _init_weights(self, module):
        # Only the layers of its own: the encoder has loaded (or initialises) its weights itself.
        if isinstance(module, AttentionPooling):
            nn.init.zeros_(module.score.weight)  # starts as the mean over the kept positions
            nn.init.zeros_(module.score.bias)
        elif isinstance(module, nn.Linear) and module is self.classifier:
            nn.init.normal_(module.weight, std=getattr(self.config, "initializer_range", 0.02))
            nn.init.zeros_(module.bias)

    def get_input_embeddings(self):
        return self.encoder.get_input_embeddings()

    def set_input_embeddings(self, value):
        self.encoder.set_input_embeddings(value)

    def chunks_of(self, inputs):
        """Rows of chunk_length pieces (the inputs padded to a multiple of it), the non-empty ones only, and where
        they came from: (chunk inputs, kept (texts, chunks) mask)."""
        mask = inputs["attention_mask"]
        texts, length = mask.shape
        count = -(-length // self.chunk_length)
        extra = count * self.chunk_length - length
        reshaped = {}
        for name, value in inputs.items():
            if value is not None:
                value = nn.functional.pad(value, (0, extra)) if extra else value
                reshaped[name] = value.reshape(texts * count, self.chunk_length)
        kept = reshaped["attention_mask"].bool().any(dim=-1)
        return {name: value[kept] for name, value in reshaped.items()}, kept.view(texts, count)

    def text_vector(self, inputs, inputs_embeds=None):
        """One vector per row: the encoder's last layer pooled over the row's tokens."""
        given = {name: value for name, value in inputs.items() if value is not None}
        states = self.encoder(**given, inputs_embeds=inputs_embeds).last_hidden_state
        return pool_tokens(states, inputs["attention_mask"].bool(), self.token_pooling, self.token_attention)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
                inputs_embeds=None, labels=None, return_dict=None):
        reference = input_ids if input_ids is not None else inputs_embeds[..., 0]
        if attention_mask is None:
            attention_mask = torch.ones_like(reference, dtype=torch.long)
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids,
                  "position_ids": position_ids}
        if self.siamese:
            if token_type_ids is None:
                raise ValueError("this model classifies pairs of texts: give it text pairs (with token_type_ids)")
            u, v = (self.text_vector({"input_ids": ids, "attention_mask": mask})
                    for ids, mask in split_pair(input_ids, attention_mask, token_type_ids))
            vectors = torch.cat([u, v, (u - v).abs(), u * v], dim=-1)
        elif self.chunk_length:
            inputs, kept = self.chunks_of(inputs)
            vectors = self.text_vector(inputs)
            grid = vectors.new_zeros(kept.shape + vectors.shape[-1:])
            grid[kept] = vectors
            vectors = self.chunk_attention(grid, kept)
        else:
            vectors = self.text_vector(inputs, inputs_embeds)
        logits = self.classifier(self.dropout(vectors))
        loss = classification_loss(logits, labels, self.config) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)
