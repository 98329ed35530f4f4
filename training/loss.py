"""Losses: partial-label BIO loss per layer and the relation loss."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def partial_label_loss(logits: torch.Tensor, allowed: torch.Tensor) -> tuple[torch.Tensor, int]:
    """-log P(allowed set) summed over tokens; returns (sum, number of tokens that carry information).

    With one allowed label this is cross-entropy; with every label allowed it is
    zero, so unannotated layers and types cost nothing.
    """
    informative = ~allowed.all(-1)
    if not informative.any():
        return logits.sum() * 0.0, 0
    lg = logits[informative].float()
    al = allowed[informative]
    total = torch.logsumexp(lg, -1)
    kept = torch.logsumexp(lg.masked_fill(~al, float("-inf")), -1)
    return (total - kept).sum(), int(informative.sum())


def relation_loss(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, int]:
    keep = labels != -100
    if not keep.any():
        return logits.sum() * 0.0, 0
    return F.cross_entropy(logits[keep].float(), labels[keep], reduction="sum"), int(keep.sum())


def batch_loss(model, batch: dict, relation_weight: float = 1.0) -> tuple[torch.Tensor, dict[str, float]]:
    """Run the model over a packed batch and return the mean loss and its parts."""
    out = model(batch["input_ids"], batch["attention_mask"])
    hidden, layer_logits = out[0], out[1:]
    layers = list(model.config.layer_labels)
    bio_sum, bio_n, rel_sum, rel_n = 0.0, 0, 0.0, 0
    for d in batch["docs"]:
        if len(d["rows"]) == 0:
            continue
        for layer, lg in zip(layers, layer_logits):
            s, n = partial_label_loss(lg[d["rows"], d["pos"]], d["allowed"][layer])
            bio_sum, bio_n = bio_sum + s, bio_n + n
        if len(d["pair_labels"]) and (d["pair_labels"] != -100).any():
            h = hidden[d["rows"], d["pos"]]
            rl = model.relation_logits(h, d["heads"], d["tails"], d["feats"])
            s, n = relation_loss(rl, d["pair_labels"])
            rel_sum, rel_n = rel_sum + s, rel_n + n
    bio = bio_sum / max(bio_n, 1)
    rel = rel_sum / max(rel_n, 1)
    loss = bio + relation_weight * rel
    if not torch.is_tensor(loss):
        loss = hidden.sum() * 0.0
    return loss, {"bio": float(bio.detach() if torch.is_tensor(bio) else bio), "relation": float(rel.detach() if torch.is_tensor(rel) else rel)}
