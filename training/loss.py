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


def listwise_loss(logits: torch.Tensor, labels: torch.Tensor, group: torch.Tensor, cls: torch.Tensor) -> tuple[torch.Tensor, int]:
    """One softmax per (head, one-per-head relation): the candidate tails and a "nobody" option compete.

    This is how said_by and role_of are decoded (the best tail, if it beats
    nobody), so training optimises the decision itself; the pairwise loss alone
    drowns the one right speaker among dozens of candidates.
    """
    keep = group >= 0
    if not keep.any():
        return logits.sum() * 0.0, 0
    g, c, y = group[keep], cls[keep], labels[keep]
    lg = logits[keep].float()
    score = lg.gather(1, c.unsqueeze(1)).squeeze(1) - lg[:, 0]
    total, n = logits.new_zeros((), dtype=torch.float32), 0
    for gid in torch.unique(g):
        m = g == gid
        s = torch.cat([score.new_zeros(1), score[m]])
        hit = (y[m] == c[m]).nonzero()
        target = int(hit[0]) + 1 if len(hit) else 0
        total = total + torch.logsumexp(s, 0) - s[target]
        n += 1
    return total, n


def batch_loss(model, batch: dict, relation_weight: float = 1.0) -> tuple[torch.Tensor, dict[str, float]]:
    """Run the model over a packed batch and return the mean loss and its parts."""
    out = model(batch["input_ids"], batch["attention_mask"], batch.get("cue_ids"))
    hidden, layer_logits = out[0], out[1:]
    layers = list(model.config.layer_labels)
    bio_sum, bio_n, rel_sum, rel_n, list_sum, list_n = 0.0, 0, 0.0, 0, 0.0, 0
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
            s, n = listwise_loss(rl, d["pair_labels"], d["pair_group"], d["pair_class"])
            list_sum, list_n = list_sum + s, list_n + n
    bio = bio_sum / max(bio_n, 1)
    rel = rel_sum / max(rel_n, 1) + list_sum / max(list_n, 1)
    loss = bio + relation_weight * rel
    if not torch.is_tensor(loss):
        loss = hidden.sum() * 0.0
    return loss, {"bio": float(bio.detach() if torch.is_tensor(bio) else bio), "relation": float(rel.detach() if torch.is_tensor(rel) else rel)}
