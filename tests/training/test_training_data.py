"""Training data: partial labels, ZWNJ augmentation, the listwise relation loss, configs, Auto classes."""
import random

import numpy as np
import pytest
import torch

from goftar.inference.document import Document, Entity
from goftar.inference.schema import Schema
from goftar.training.config import ConfigError, SourceConfig, TrainConfig
from goftar.training.data import annotation_of, collate, switch_zwnj
from goftar.training.loss import listwise_loss, partial_label_loss


def test_partial_label_loss_ignores_unannotated_labels():
    logits = torch.tensor([[2.0, 1.0, 0.5], [0.0, 3.0, 0.0]])
    exact = torch.tensor([[True, False, False], [True, False, False]])
    open_ = torch.tensor([[True, True, False], [True, True, False]])
    everything = torch.ones(2, 3, dtype=torch.bool)
    l_exact, n = partial_label_loss(logits, exact)
    l_open, _ = partial_label_loss(logits, open_)
    l_none, n_none = partial_label_loss(logits, everything)
    assert n == 2 and n_none == 0 and float(l_none) == 0.0
    # allowing label 1 too can only lower the loss; token 2 predicts label 1, so it lowers it a lot
    assert float(l_open) < float(l_exact) - 1.0


def test_peyma_source_allows_fac_on_o_tokens(tiny_encoder):
    from transformers import AutoTokenizer

    from goftar.inference.encode import TextEncoder
    from goftar.inference.normalize import Normalizer
    from goftar.training.data import encode_example

    schema = Schema.default()
    doc = Document("p1", "قالیباف در تهران گفت", [Entity("T1", "PER", 0, 7), Entity("T2", "LOC", 11, 16)],
                   meta={"layers": ["ne"], "ne_types": ["PER", "ORG", "LOC", "DATE", "TIME", "MONEY", "PERCENT"]})
    annot = annotation_of(doc, SourceConfig(path="peyma.txt"), schema)
    assert annot["layers"] == ["ne"] and annot["relations"] == []
    enc = TextEncoder(AutoTokenizer.from_pretrained(tiny_encoder), Normalizer(), 64, 48)
    labels = {layer: schema.layer_labels(layer) for layer in schema.layers}
    ex = encode_example(doc, annot, enc, labels, list(schema.relations), schema)
    batch = collate([ex], enc.pad_id, labels)
    allowed = batch["docs"][0]["allowed"]
    ne = labels["ne"]
    o_tok = int(np.nonzero(ex.labels["ne"] == 0)[0][0])
    assert allowed["ne"][o_tok, ne.index("B-FAC")] and not allowed["ne"][o_tok, ne.index("B-PER")]
    per_tok = int(np.nonzero(ex.labels["ne"] == ne.index("B-PER"))[0][0])
    assert allowed["ne"][per_tok].sum() == 1
    assert allowed["quote"].all()  # quote layer not annotated: no information, zero loss
    assert (ex.pair_labels == -100).all() or len(ex.pair_labels) == 0


@pytest.mark.parametrize("seed", range(6))
def test_zwnj_switch_keeps_spans_on_the_same_words(seed):
    text = "همکاری‌های اقتصادی و می‌خواهیم کتاب‌ها را"
    ents = [Entity("T1", "SECTOR", 0, 18, "ECONOMY"), Entity("T2", "PRO", 32, 40)]
    doc = Document("z", text, ents)
    out = switch_zwnj(doc, random.Random(seed))
    for a, b in zip(doc.entities, out.entities):
        before = doc.text[a.start:a.end].replace("\u200c", "").replace(" ", "")
        after = out.text[b.start:b.end].replace("\u200c", "").replace(" ", "")
        assert before == after
        assert out.text[b.start:b.end] == out.text[b.start:b.end].strip()


def test_listwise_loss_prefers_the_gold_speaker():
    # three candidate tails of one quote; the gold one is the second (label 1 = said_by)
    labels = torch.tensor([0, 1, 0])
    group = torch.tensor([0, 0, 0])
    cls = torch.tensor([1, 1, 1])
    good = torch.tensor([[0.0, -2.0], [0.0, 3.0], [0.0, -2.0]])
    bad = torch.tensor([[0.0, 3.0], [0.0, -2.0], [0.0, -2.0]])
    lg, n = listwise_loss(good, labels, group, cls)
    lb, _ = listwise_loss(bad, labels, group, cls)
    assert n == 1 and float(lg) < 0.1 < float(lb)


def test_config_rejects_unknown_keys_with_a_hint():
    with pytest.raises(ConfigError, match=r"train: unknown key 'warmup_steps' \(did you mean: warmup_ratio"):
        TrainConfig.from_dict({"train": {"warmup_steps": 10}})
    with pytest.raises(ConfigError, match=r"data.train\[0\]: unknown key 'fmt'"):
        TrainConfig.from_dict({"data": {"train": [{"path": "x.jsonl", "fmt": "peyma"}]}})


def test_checkpoint_loads_through_auto_classes(trained_tiny):
    from transformers import AutoConfig, AutoModel

    from goftar.inference.modeling import GoftarConfig, GoftarModel

    assert isinstance(AutoConfig.from_pretrained(trained_tiny), GoftarConfig)
    assert isinstance(AutoModel.from_pretrained(trained_tiny), GoftarModel)
