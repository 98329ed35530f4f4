"""Typed training configuration: YAML in, dataclasses out, unknown keys rejected.

A key nobody reads is a bug, so ``load_config`` fails on any key that is not a
field here, naming the key, the section and the fields it could have meant.

>>> cfg = TrainConfig.from_dict({"model": {"encoder": "HooshvareLab/bert-fa-zwnj-base"}})
>>> cfg.train.epochs
3
>>> TrainConfig.from_dict({"train": {"epoch": 3}})
Traceback (most recent call last):
...
goftar.training.config.ConfigError: train: unknown key 'epoch' (did you mean: epochs?)
"""
from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints


class ConfigError(ValueError):
    pass


@dataclass
class SourceConfig:
    """One training or evaluation source and what it annotates (partial labels)."""

    path: str
    format: str = "auto"  # goftar | peyma | arman | parstwiner | labelstudio | doccano | brat | auto
    name: str | None = None
    layers: list[str] | None = None  # annotated layers; None = what the reader says, else all
    ne_types: list[str] | None = None  # annotated ne types; None = all of the schema
    relations: list[str] | None = None  # annotated relation types; None = all whose layers are annotated
    repeat: int = 1  # oversampling factor per epoch
    max_docs: int | None = None
    exclude_texts_from: list[str] = field(default_factory=list)  # drop documents whose text occurs in these files


@dataclass
class ModelConfig:
    encoder: str = "HooshvareLab/bert-fa-zwnj-base"  # hub name or local folder
    init_from: str | None = None  # continue from a goftar checkpoint (overrides encoder)
    window_length: int = 256
    window_stride: int = 192
    classifier_dropout: float = 0.1
    relation_hidden: int = 256
    normalizer: dict[str, Any] = field(default_factory=dict)
    cue_features: bool = True  # the encoder reads speech-cue tags (goftar.inference.cues) beside the tokens
    relation_features: list[str] | None = None  # pair features of the relation head; None = all (decode.ALL_FEATURES)
    decode: dict[str, Any] = field(default_factory=dict)  # decode settings stored in the checkpoint (decode.DECODE_DEFAULTS)


@dataclass
class DataConfig:
    train: list[SourceConfig] = field(default_factory=list)
    dev: list[SourceConfig] = field(default_factory=list)
    zwnj_augment: float = 0.3  # probability that a training document's ZWNJs are switched to space/none


@dataclass
class OptimConfig:
    output_dir: str = "runs/goftar"
    epochs: int = 3
    max_steps: int | None = None
    batch_windows: int = 16  # windows per step (documents are packed up to this)
    lr: float = 5e-5
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    relation_loss_weight: float = 1.0
    grad_clip: float = 1.0
    seed: int = 13
    mixed_precision: str = "no"  # no | fp16 | bf16 (accelerate)
    eval_max_docs: int | None = None
    save_dtype: str = "float32"  # float32 | float16
    freeze_embeddings: bool = False
    progress: bool = True
    time_limit_minutes: float | None = None  # stop training (then evaluate and save) once this much time has passed
    eval_batch_windows: int = 64
    checkpoint_minutes: float = 5.0  # write a resumable checkpoint (model, optimiser, scheduler, RNG, position) this often
    eval_start: bool = True  # score the starting model on dev first: the kept "best" is never worse than the start


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: OptimConfig = field(default_factory=OptimConfig)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        return _build(cls, d or {}, "")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _build(tp, d: Any, where: str):
    if not isinstance(d, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping, got {type(d).__name__}")
    hints = get_type_hints(tp)
    names = [f.name for f in dataclasses.fields(tp)]
    kwargs = {}
    for k, v in d.items():
        if k not in names:
            close = difflib.get_close_matches(k, names, n=3)
            hint = f" (did you mean: {', '.join(close)}?)" if close else f" (known: {', '.join(names)})"
            raise ConfigError(f"{where or 'config'}: unknown key {k!r}{hint}")
        t = hints[k]
        sub = f"{where}.{k}" if where else k
        if dataclasses.is_dataclass(t):
            kwargs[k] = _build(t, v, sub)
        elif getattr(t, "__origin__", None) is list and t.__args__ and dataclasses.is_dataclass(t.__args__[0]):
            kwargs[k] = [_build(t.__args__[0], x if isinstance(x, dict) else {"path": x}, f"{sub}[{i}]") for i, x in enumerate(v or [])]
        else:
            kwargs[k] = v
    try:
        return tp(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{where or 'config'}: {exc}") from None


def load_config(path: str | Path) -> TrainConfig:
    """Read a YAML training config; relative data paths resolve against the working directory."""
    import os

    import yaml

    # data paths may say ${GOFTAR_DATASETS}: the shared NER sets, beside the checkout by default
    os.environ.setdefault("GOFTAR_DATASETS", "../shared/datasets")
    with open(path, encoding="utf-8") as f:
        d = yaml.safe_load(os.path.expandvars(f.read())) or {}
    try:
        return TrainConfig.from_dict(d)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
