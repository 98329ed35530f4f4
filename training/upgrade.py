"""Bring a checkpoint's architecture up to a training config: new pair features, speech-cue inputs.

A goftar 0.1 checkpoint has seven relation pair features and no cue inputs.
Training it with a config that asks for more builds the new architecture and
copies every weight over by name; what is new starts at zero (the cue
embeddings, the relation MLP's columns for new features), so the upgraded
model predicts exactly what the old one did until training moves it.
"""
from __future__ import annotations

from goftar.inference.decode import ALL_FEATURES, feature_spec


def upgrade(model, cue_features: bool, features: list[str] | None, decode: dict | None = None, log=print):
    """``model`` itself when it already has this architecture, else an upgraded copy."""
    import torch

    from goftar.inference.modeling import GoftarConfig, GoftarModel

    cfg = model.config
    want = feature_spec(len(cfg.allowed_pairs), features if features is not None else ALL_FEATURES)
    have = [list(f) for f in cfg.relation_features]
    if decode:
        cfg.decode = {**(cfg.decode or {}), **decode}
    if want == have and bool(cfg.cue_features) == bool(cue_features):
        return model
    d = cfg.to_dict()
    d.update(relation_features=want, cue_features=bool(cue_features))
    new = GoftarModel(GoftarConfig.from_dict(d))
    old_sd, new_sd = model.state_dict(), new.state_dict()
    old_names = [n for n, _ in have]
    new_names = [n for n, _ in want]
    fd = cfg.feature_dim
    with torch.no_grad():
        for k, v in old_sd.items():
            if k.startswith("relation_head.features."):
                i = int(k.split(".")[2])
                name = old_names[i]
                if name in new_names:
                    j = new_names.index(name)
                    new_sd[k.replace(f"features.{i}.", f"features.{j}.")].copy_(v)
                continue
            if k not in new_sd:
                continue
            if new_sd[k].shape == v.shape:
                new_sd[k].copy_(v)
            elif k == "relation_head.mlp.1.weight":
                # columns: [head, tail, head*tail] (3 × inner), then one block of feature_dim per feature
                w = new_sd[k]
                w.zero_()
                base = v.shape[1] - fd * len(old_names)
                w[:, :base] = v[:, :base]
                for i, name in enumerate(old_names):
                    if name in new_names:
                        j = new_names.index(name)
                        w[:, base + j * fd: base + (j + 1) * fd] = v[:, base + i * fd: base + (i + 1) * fd]
            else:
                raise ValueError(f"cannot upgrade {k}: shape {tuple(v.shape)} → {tuple(new_sd[k].shape)}")
        for k in new_sd:
            if k.startswith("cue_") and k not in old_sd:
                new_sd[k].zero_()
    new.load_state_dict(new_sd)
    added = [n for n in new_names if n not in old_names]
    log(f"upgraded the checkpoint: relation features +{added}, cue inputs {'on' if cue_features else 'off'} (new weights start at zero)")
    return new
