"""A bidirectional LSTM under the token classifier: on a pretrained encoder's last layer (--use_bilstm), or on
word embeddings of its own, trained from scratch or started from a model's input embeddings (--no_encoder).

Self-contained (torch and transformers only): save_pretrained copies this file next to the weights, so the
folder loads anywhere with AutoModelForTokenClassification.from_pretrained(folder, trust_remote_code=True).
The sizes live in config.tunekit_bilstm. The LSTM reads each row as one sequence up to its attention mask
(packed with pack_padded_sequence), so padding never reaches the backward direction and a sentence's scores do
not depend on what shares its batch.
"""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from transformers import AutoConfig, AutoModel, PreTrainedModel
from transformers.modeling_outputs import TokenClassifierOutput

SETTINGS = "tunekit_bilstm"  # config attribute: hidden_size, layers, dropout, and "embeddings" for --no_encoder
IGNORED = -100


class WordEmbeddings(nn.Module):
    """The encoder of a tagger without a pretrained one: one learned vector per vocabulary entry."""

    def __init__(self, vocab_size, size, padding_id):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, size, padding_idx=padding_id)

    def forward(self, input_ids):
        return self.word_embeddings(input_ids)


class AroundAnEncoder(PreTrainedModel):
    """What transformers reads from a model that holds another (the BiLSTM tagger, the CRF): any config, and the
    attention implementations and gradient checkpointing of the model inside."""

    config_class = AutoConfig  # type: ignore[assignment]  # any config: the model inside says which
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_attention_backend = True


class BilstmForTokenClassification(AroundAnEncoder):
    """encoder (a pretrained model without its pooler, or WordEmbeddings) -> dropout -> BiLSTM -> dropout -> linear."""

    base_model_prefix = "encoder"

    def __init__(self, config, encoder=None):
        super().__init__(config)
        settings = getattr(config, SETTINGS)
        self.own_embeddings = bool(settings.get("embeddings"))
        if self.own_embeddings:
            self.encoder = WordEmbeddings(config.vocab_size, settings["embeddings"], config.pad_token_id)
            width = settings["embeddings"]
        else:
            self.encoder = encoder if encoder is not None else AutoModel.from_config(config)
            if getattr(self.encoder, "pooler", None) is not None:
                self.encoder.pooler = None  # unused: its weights would get no gradient (several processes object)
            width = config.hidden_size
        self.dropout = nn.Dropout(settings.get("dropout", 0.1))
        self.bilstm = nn.LSTM(width, settings["hidden_size"], num_layers=settings.get("layers", 1), batch_first=True,
                              bidirectional=True, dropout=settings.get("dropout", 0.1) if settings.get("layers", 1) > 1 else 0.0)
        self.classifier = nn.Linear(2 * settings["hidden_size"], config.num_labels)
        self.post_init()

    def _init_weights(self, module):
        # Only the layers of its own: a pretrained encoder has loaded (or initialises) its weights itself.
        if isinstance(module, nn.LSTM):
            for name, parameter in module.named_parameters():
                if "weight" in name:
                    nn.init.orthogonal_(parameter)
                else:
                    nn.init.zeros_(parameter)
        elif isinstance(module, nn.Linear) and module is self.classifier:
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, WordEmbeddings):
            nn.init.normal_(module.word_embeddings.weight, std=0.1)

    def get_input_embeddings(self):
        if self.own_embeddings:
            return self.encoder.word_embeddings
        return self.encoder.get_input_embeddings()

    def set_input_embeddings(self, value):
        if self.own_embeddings:
            self.encoder.word_embeddings = value
        else:
            self.encoder.set_input_embeddings(value)

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None,
                inputs_embeds=None, labels=None, return_dict=None):
        if attention_mask is not None and attention_mask.dim() > 2:
            raise ValueError("a BiLSTM reads each row as one sequence: it cannot take packed rows")
        reference = input_ids if input_ids is not None else inputs_embeds[..., 0]
        if attention_mask is None:
            attention_mask = torch.ones_like(reference, dtype=torch.long)
        if self.own_embeddings:
            states = inputs_embeds if inputs_embeds is not None else self.encoder(input_ids)
        else:
            inputs = {"input_ids": input_ids, "attention_mask": attention_mask, "inputs_embeds": inputs_embeds}
            if token_type_ids is not None:
                inputs["token_type_ids"] = token_type_ids
            if position_ids is not None:
                inputs["position_ids"] = position_ids
            states = self.encoder(**inputs).last_hidden_state
        lengths = attention_mask.sum(dim=1).clamp(min=1).cpu()
        # The LSTM runs in fp32: under bf16 autocast its recurrence would round the state at every step.
        with torch.autocast(device_type=states.device.type, enabled=False):
            packed = pack_padded_sequence(self.dropout(states).float(), lengths, batch_first=True, enforce_sorted=False)
            read, _ = self.bilstm(packed)
            read, _ = pad_packed_sequence(read, batch_first=True, total_length=states.shape[1])
        logits = self.classifier(self.dropout(read))
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits.view(-1, logits.shape[-1]).float(), labels.view(-1),
                                               ignore_index=IGNORED)
        return TokenClassifierOutput(loss=loss, logits=logits)
