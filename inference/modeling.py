"""The goftar model: any transformers encoder + one BIO head per layer + a relation head.

Everything a checkpoint needs to describe itself lives in :class:`GoftarConfig`
(encoder config, label maps, relation types, allowed pairs, window, normaliser
settings, goftar version), so ``GoftarModel.from_pretrained(path)`` needs
nothing but the folder.

>>> from goftar.inference.modeling import GoftarConfig, GoftarModel
>>> from transformers import BertConfig
>>> enc = BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
>>> model = GoftarModel(GoftarConfig(encoder=enc.to_dict()))
>>> sorted(model.bio_heads)
['ne', 'quote', 'role', 'sector']
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel

from .cues import CUE_TAGS
from .decode import LEGACY_FEATURES, feature_spec, pair_types
from .normalize import Normalizer
from .schema import Schema

from . import __version__ as GOFTAR_VERSION  # the one version string (inference/__init__.py)


class GoftarConfig(PretrainedConfig):
    """Self-describing configuration of a goftar checkpoint."""

    model_type = "goftar"

    def __init__(
        self,
        encoder: dict[str, Any] | None = None,
        schema: dict[str, Any] | None = None,
        window_length: int = 256,
        window_stride: int = 192,
        normalizer: dict[str, Any] | None = None,
        classifier_dropout: float = 0.1,
        relation_hidden: int = 256,
        feature_dim: int = 32,
        relation_threshold: float = 0.5,
        single_relation_threshold: float = 0.5,
        goftar_version: str = GOFTAR_VERSION,
        training: dict[str, Any] | None = None,
        relation_features: list | None = None,
        cue_features: bool = False,
        cue_tags: list[str] | None = None,
        decode: dict[str, Any] | None = None,
        cue_lexicon: dict[str, Any] | None = None,
        **kwargs,
    ):
        self.encoder = dict(encoder or {})
        self.schema = schema or Schema.default().to_dict()
        s = Schema.from_dict(self.schema)
        # Label maps, relation order and pair ids are derived from the schema once and then stored:
        # config.json is written with sorted keys, so deriving them again from the reloaded schema
        # could change their order under trained weights. Stored values win; fresh ones come in name
        # order (relations, pairs) so that a rebuilt model numbers them as the reloaded one does.
        self.layer_labels = kwargs.pop("layer_labels", None) or {layer: s.layer_labels(layer) for layer in s.layers}
        self.relation_types = list(kwargs.pop("relation_types", None) or sorted(s.relations))
        self.allowed_pairs = [list(p) for p in (kwargs.pop("allowed_pairs", None) or pair_types(s))]
        self.window_length = window_length
        self.window_stride = window_stride
        self.normalizer = Normalizer.from_dict(normalizer).to_dict()
        self.classifier_dropout = classifier_dropout
        self.relation_hidden = relation_hidden
        self.feature_dim = feature_dim
        self.relation_threshold = relation_threshold
        self.single_relation_threshold = single_relation_threshold
        self.goftar_version = goftar_version
        self.training = training or {}
        # the relation head's pair features [[name, size], …]; a checkpoint without them (0.1) used the legacy seven
        self.relation_features = [list(f) for f in (relation_features or feature_spec(len(self.allowed_pairs), LEGACY_FEATURES))]
        # speech-cue tags the encoder reads beside the tokens (goftar.inference.cues), off for 0.1 checkpoints
        self.cue_features = bool(cue_features)
        self.cue_tags = list(cue_tags or CUE_TAGS)
        # decode settings (goftar.inference.decode.DECODE_DEFAULTS); a caller may override them
        self.decode = dict(decode or {})
        # the cue lexicon's data (goftar/inference/cues.yaml's mapping) the cue tags were computed with;
        # None (checkpoints before 0.4): the package's lexicon
        self.cue_lexicon = dict(cue_lexicon) if cue_lexicon else None
        super().__init__(**kwargs)

    def encoder_config(self) -> PretrainedConfig:
        if not self.encoder:
            raise ValueError("GoftarConfig has no encoder config; build the model with GoftarModel.from_encoder(name_or_path)")
        d = dict(self.encoder)
        return AutoConfig.for_model(d.pop("model_type"), **d)

    @property
    def schema_obj(self) -> Schema:
        return Schema.from_dict(self.schema)


def span_cumsum(hidden: torch.Tensor) -> torch.Tensor:
    """[T, H] → [T + 1, H]: row i is the sum of the first i rows (span means in O(1))."""
    return torch.cat([hidden.new_zeros(1, hidden.shape[-1]), hidden.cumsum(0)], dim=0)


class RelationHead(nn.Module):
    """Scores candidate (head, tail) mention pairs: none + one class per relation type.

    A span is represented by its first token, its last token and the mean of its
    tokens (mean via a cumulative sum, so the head exports to ONNX). Pair
    features (pair type, direction, distance, rank, widths, sentence gap) are
    embedded and concatenated.
    """

    def __init__(self, hidden: int, n_classes: int, sizes: list[int], inner: int = 256, feature_dim: int = 32, dropout: float = 0.1):
        super().__init__()
        self.features = nn.ModuleList(nn.Embedding(n, feature_dim) for n in sizes)
        self.span_proj = nn.Linear(3 * hidden, inner)
        self.mlp = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(3 * inner + feature_dim * len(sizes), inner),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(inner, n_classes),
        )

    def span_repr(self, hidden: torch.Tensor, csum: torch.Tensor, spans: torch.Tensor) -> torch.Tensor:
        start, end = spans[:, 0], spans[:, 1]
        width = (end - start).clamp(min=1).unsqueeze(-1).to(hidden.dtype)
        mean = (csum[end] - csum[start]) / width
        first = hidden[start]
        last = hidden[(end - 1).clamp(min=0)]
        return self.span_proj(torch.cat([first, last, mean], dim=-1))

    def forward(self, hidden: torch.Tensor, heads: torch.Tensor, tails: torch.Tensor, feats: torch.Tensor,
                csum: torch.Tensor | None = None) -> torch.Tensor:
        """hidden [T, H] (one document), heads/tails [P, 2] token ranges, feats [P, F] → logits [P, C].

        ``csum`` [T + 1, H]: :func:`span_cumsum` of ``hidden``, computed once per
        document by a caller that scores its pairs in chunks (else each chunk
        would pay for a sum over the whole document)."""
        if csum is None:
            csum = span_cumsum(hidden)
        h = self.span_repr(hidden, csum, heads)
        t = self.span_repr(hidden, csum, tails)
        f = [emb(feats[:, i]) for i, emb in enumerate(self.features)]
        return self.mlp(torch.cat([h, t, h * t, *f], dim=-1))


class GoftarModel(PreTrainedModel):
    """Encoder + BIO heads (one per layer) + relation head.

    ``forward`` runs the network over windows and returns hidden states and
    each layer's logits; relation scoring runs per document on the hidden
    states the NER pass already computed (:meth:`relation_logits`).
    """

    config_class = GoftarConfig
    base_model_prefix = "goftar"
    supports_gradient_checkpointing = True

    def __init__(self, config: GoftarConfig):
        super().__init__(config)
        try:  # the pooler is never used: leave it out (BERT / RoBERTa / XLM-R accept this)
            self.encoder = AutoModel.from_config(config.encoder_config(), add_pooling_layer=False)
        except TypeError:
            self.encoder = AutoModel.from_config(config.encoder_config())
        hidden = self.encoder.config.hidden_size
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.bio_heads = nn.ModuleDict({layer: nn.Linear(hidden, len(labels)) for layer, labels in config.layer_labels.items()})
        self.relation_head = RelationHead(
            hidden, 1 + len(config.relation_types), [int(n) for _, n in config.relation_features],
            inner=config.relation_hidden, feature_dim=config.feature_dim, dropout=config.classifier_dropout,
        )
        if config.cue_features:
            # added to the token embeddings (the encoder attends to them) and to the states the BIO heads read
            self.cue_input = nn.Embedding(len(config.cue_tags), self.encoder.config.hidden_size)
            self.cue_output = nn.Embedding(len(config.cue_tags), hidden)
        self.post_init()
        if config.cue_features:  # start as if there were no cues: a checkpoint without them predicts the same
            self.cue_input.weight.data.zero_()
            self.cue_output.weight.data.zero_()

    def _init_weights(self, module):
        # Only goftar's own modules: the encoder keeps its pretrained weights.
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(0.0, 0.02)
            if module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.Embedding):
            module.weight.data.normal_(0.0, 0.02)
        elif isinstance(module, nn.LayerNorm):
            module.weight.data.fill_(1.0)
            module.bias.data.zero_()

    @classmethod
    def from_encoder(cls, name_or_path: str, **config_kwargs) -> "GoftarModel":
        """A new goftar model on a pretrained encoder (hub name or local folder)."""
        try:
            encoder = AutoModel.from_pretrained(name_or_path, add_pooling_layer=False)
        except TypeError:
            encoder = AutoModel.from_pretrained(name_or_path)
        enc_cfg = encoder.config.to_dict()
        for k in ("architectures", "_name_or_path", "transformers_version", "torch_dtype", "dtype"):
            enc_cfg.pop(k, None)
        config = GoftarConfig(encoder=enc_cfg, **config_kwargs)
        model = cls(config)
        missing, unexpected = model.encoder.load_state_dict(encoder.state_dict(), strict=False)
        if [k for k in missing if "pooler" not in k]:
            raise ValueError(f"encoder weights missing after loading {name_or_path}: {missing[:5]}")
        return model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, cue_ids: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        """Windows in (with ``cue_ids`` [N, L] when the model reads cues), (hidden [N, L, H], logits of each layer in config order) out."""
        if self.config.cue_features:
            if cue_ids is None:
                cue_ids = torch.zeros_like(input_ids)
            embeds = self.encoder.get_input_embeddings()(input_ids) + self.cue_input(cue_ids)
            hidden = self.encoder(inputs_embeds=embeds, attention_mask=attention_mask).last_hidden_state
            h = self.dropout(hidden + self.cue_output(cue_ids))
        else:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            h = self.dropout(hidden)
        return (hidden, *(self.bio_heads[layer](h) for layer in self.config.layer_labels))

    def relation_logits(self, hidden: torch.Tensor, heads: torch.Tensor, tails: torch.Tensor, feats: torch.Tensor,
                        csum: torch.Tensor | None = None) -> torch.Tensor:
        return self.relation_head(hidden, heads, tails, feats, csum)


AutoConfig.register("goftar", GoftarConfig)
AutoModel.register(GoftarConfig, GoftarModel)
