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


from goftar.inference.errors import InputError


class ConfigError(InputError):
    """A training config that cannot be used; the message names the file, the key and what was expected."""


def _rng(lo=None, hi=None, choices=None, lo_open=False):
    return {"min": lo, "max": hi, "choices": choices, "lo_open": lo_open}


@dataclass
class SourceConfig:
    """One training or evaluation source and what it annotates (partial labels)."""

    path: str
    format: str = "auto"  # goftar | peyma | arman | parstwiner | labelstudio | doccano | brat | auto
    name: str | None = None
    layers: list[str] | None = None  # annotated layers; None = what the reader says, else all
    ne_types: list[str] | None = None  # annotated ne types; None = all of the schema
    relations: list[str] | None = None  # annotated relation types; None = all whose layers are annotated
    repeat: int = field(default=1, metadata=_rng(1))  # oversampling factor per epoch
    max_docs: int | None = field(default=None, metadata=_rng(1))
    exclude_texts_from: list[str] = field(default_factory=list)  # drop documents whose text occurs in these files


@dataclass
class ModelConfig:
    encoder: str = "HooshvareLab/bert-fa-zwnj-base"  # hub name or local folder
    init_from: str | None = None  # continue from a goftar checkpoint (overrides encoder)
    window_length: int = field(default=256, metadata=_rng(8, 4096))
    window_stride: int = field(default=192, metadata=_rng(1, 4096))
    classifier_dropout: float = field(default=0.1, metadata=_rng(0.0, 1.0))
    relation_hidden: int = field(default=256, metadata=_rng(1))
    normalizer: dict[str, Any] = field(default_factory=dict)
    cue_features: bool = True  # the encoder reads speech-cue tags (goftar.inference.cues) beside the tokens
    # the cue lexicon (YAML) the cue tags are computed with, stored in the checkpoint; None = init_from's stored
    # lexicon if it has one, else the package's goftar/inference/cues.yaml
    cue_lexicon: str | None = None
    relation_features: list[str] | None = None  # pair features of the relation head; None = all (decode.ALL_FEATURES)
    decode: dict[str, Any] = field(default_factory=dict)  # decode settings stored in the checkpoint (decode.DECODE_DEFAULTS)
    relation_threshold: float | None = None  # pairwise relations (topic) kept above this; None = the checkpoint's (0.5 fresh)
    single_relation_threshold: float | None = None  # said_by/role_of: winner's share against "nobody"; None = the checkpoint's


@dataclass
class DataConfig:
    train: list[SourceConfig] = field(default_factory=list)
    dev: list[SourceConfig] = field(default_factory=list)
    zwnj_augment: float = field(default=0.3, metadata=_rng(0.0, 1.0))  # probability that a training document's ZWNJs are switched to space/none


@dataclass
class OptimConfig:
    output_dir: str = "runs/goftar"
    epochs: int = field(default=3, metadata=_rng(1))
    max_steps: int | None = field(default=None, metadata=_rng(1))
    batch_windows: int = field(default=16, metadata=_rng(1))  # windows per step (documents are packed up to this)
    lr: float = field(default=5e-5, metadata=_rng(0.0, lo_open=True))
    head_lr: float = field(default=1e-3, metadata=_rng(0.0, lo_open=True))
    weight_decay: float = field(default=0.01, metadata=_rng(0.0))
    warmup_ratio: float = field(default=0.06, metadata=_rng(0.0, 1.0))
    relation_loss_weight: float = field(default=1.0, metadata=_rng(0.0))
    grad_clip: float = field(default=1.0, metadata=_rng(0.0))
    seed: int = 13
    mixed_precision: str = field(default="no", metadata=_rng(choices=("no", "fp16", "bf16")))  # accelerate
    eval_max_docs: int | None = field(default=None, metadata=_rng(1))
    save_dtype: str = field(default="float32", metadata=_rng(choices=("float32", "float16")))
    freeze_embeddings: bool = False
    progress: bool = True
    time_limit_minutes: float | None = field(default=None, metadata=_rng(0.0, lo_open=True))  # stop training (then evaluate and save) once this much time has passed
    eval_batch_windows: int = field(default=64, metadata=_rng(1))
    checkpoint_minutes: float = field(default=5.0, metadata=_rng(0.0))  # write a resumable checkpoint (model, optimiser, scheduler, RNG, position) this often; 0 = never
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


def _type_name(t) -> str:
    origin = getattr(t, "__origin__", None)
    args = [a for a in getattr(t, "__args__", ()) if a is not type(None)]
    if origin is list:
        plural = {int: "integers", float: "numbers", str: "strings", bool: "booleans"}
        return f"a list of {plural.get(args[0], _type_name(args[0]))}" if args else "a list"
    if origin is dict or t is dict:
        return "a mapping"
    if args and type(None) in getattr(t, "__args__", ()):
        return f"{_type_name(args[0])} or null"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(t, getattr(t, "__name__", str(t)))


def _got(v: Any) -> str:
    if isinstance(v, str):
        return f"the string {v!r}"
    return "null" if v is None else f"{type(v).__name__} {v!r}"


def _check_value(t, v: Any, key: str, meta) -> Any:
    """``v`` checked (and int → float widened) against the declared type ``t``; ConfigError naming ``key`` otherwise."""
    import types
    import typing

    origin = getattr(t, "__origin__", None)
    args = getattr(t, "__args__", ())
    if origin in (typing.Union, getattr(types, "UnionType", None)) or isinstance(t, getattr(types, "UnionType", ())):
        if v is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _check_value(inner[0], v, key, meta)
    bad = None
    if t is bool:
        if not isinstance(v, bool):
            bad = v
    elif t is int:
        if not isinstance(v, int) or isinstance(v, bool):
            bad = v
    elif t is float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            bad = v
        else:
            v = float(v)
    elif t is str:
        if not isinstance(v, str):
            bad = v
    elif origin is list:
        if not isinstance(v, list):
            raise ConfigError(f"{key}: expected {_type_name(t)}, got {_got(v)}" + (f" (write [{v}])" if isinstance(v, str) else ""))
        return [_check_value(args[0], x, f"{key}[{i}]", {}) for i, x in enumerate(v)] if args else v
    elif origin is dict or t is dict:
        if not isinstance(v, dict):
            bad = v
    if bad is not None or (t in (bool, int, float, str) and v is None):
        hint = ""
        if t in (int, float) and isinstance(v, str):
            try:
                float(v)
                hint = f" (YAML reads {v} as text: write it with a dot and a signed exponent, e.g. 5.0e-5)" if t is float else ""
            except ValueError:
                pass
        raise ConfigError(f"{key}: expected {_type_name(t)}, got {_got(v)}{hint}")
    m = meta or {}
    if m.get("choices") is not None and v not in m["choices"]:
        raise ConfigError(f"{key}: expected one of {', '.join(map(str, m['choices']))}, got {_got(v)}")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        lo, hi = m.get("min"), m.get("max")
        if lo is not None and (v < lo or (m.get("lo_open") and v == lo)):
            raise ConfigError(f"{key}: must be {'above' if m.get('lo_open') else 'at least'} {lo}, got {v}")
        if hi is not None and v > hi:
            raise ConfigError(f"{key}: must be at most {hi}, got {v}")
    return v


def _build(tp, d: Any, where: str):
    if not isinstance(d, dict):
        raise ConfigError(f"{where or 'config'}: expected a mapping, got {_got(d)}")
    hints = get_type_hints(tp)
    fields = {f.name: f for f in dataclasses.fields(tp)}
    names = list(fields)
    kwargs = {}
    for k, v in d.items():
        if k not in names:
            close = difflib.get_close_matches(str(k), names, n=3)
            hint = f" (did you mean: {', '.join(close)}?)" if close else f" (known: {', '.join(names)})"
            raise ConfigError(f"{where or 'config'}: unknown key {k!r}{hint}")
        t = hints[k]
        sub = f"{where}.{k}" if where else k
        if dataclasses.is_dataclass(t):
            kwargs[k] = _build(t, v, sub)
        elif getattr(t, "__origin__", None) is list and t.__args__ and dataclasses.is_dataclass(t.__args__[0]):
            if v is not None and not isinstance(v, list):
                raise ConfigError(f"{sub}: expected a list of sources, got {_got(v)}" + (f" (write [{v}] or a '- path:' item)" if isinstance(v, str) else ""))
            kwargs[k] = [_build(t.__args__[0], x if isinstance(x, dict) else {"path": x}, f"{sub}[{i}]") for i, x in enumerate(v or [])]
        else:
            kwargs[k] = _check_value(t, v, sub, fields[k].metadata)
    try:
        obj = tp(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"{where or 'config'}: {exc}") from None
    if tp is ModelConfig and obj.window_stride > obj.window_length:
        raise ConfigError(f"{where}.window_stride: must be at most window_length ({obj.window_length}), got {obj.window_stride}")
    return obj


def check_paths(cfg: TrainConfig) -> None:
    """The folders a run starts from exist: ``model.init_from`` (a goftar checkpoint) and a local ``model.encoder``."""
    m = cfg.model
    if m.init_from:
        p = Path(m.init_from)
        if not p.is_dir():
            raise ConfigError(f"model.init_from: no such folder {m.init_from}")
        if not (p / "config.json").exists():
            raise ConfigError(f"model.init_from: {m.init_from} is not a goftar checkpoint (no config.json)")
    elif m.encoder and (m.encoder.startswith((".", "/", "~")) or Path(m.encoder).parts[0] in ("encoders", "runs", "models")) \
            and not Path(m.encoder).expanduser().is_dir():
        raise ConfigError(f"model.encoder: no such folder {m.encoder} (build it with `make encoder`, or give a hub name)")


ROOT = Path(__file__).resolve().parent.parent  # the checkout (data/, configs/, models/)
KEEP_ORIGINAL_BASE = Path(__file__).resolve().parent.parent / "configs" / "continue.yaml"


def available_sources(sources: list[SourceConfig], log=print) -> list[SourceConfig]:
    """The sources of ``sources`` that exist; project paths (data/train.jsonl) resolve against the checkout too.

    A missing shared NER set (``${GOFTAR_DATASETS}``: PEYMA, ARMAN) is left out
    with a note saying how to add it; anything else missing is an error.
    """
    import os

    ds = os.environ.get("GOFTAR_DATASETS", "")
    keep: list[SourceConfig] = []
    for src in sources:
        p = Path(src.path)
        if not p.exists() and not p.is_absolute() and (ROOT / p).exists():
            src = dataclasses.replace(src, path=str(ROOT / p))
        if Path(src.path).exists():
            keep.append(src)
            continue
        shared = src.format in ("peyma", "arman", "parstwiner") or src.path.startswith(ds.rstrip("/") + "/")
        if not shared:
            raise ConfigError(f"data.train: no such file {src.path}")
        log(f"note: {src.format.upper() if src.format != 'auto' else src.path} is not added: {src.path} not found. "
            f"PEYMA and ARMAN are added when GOFTAR_DATASETS points at the folder holding peyma/ and arman/ "
            f"(now {ds!r})" if ds else f"(it is not set)")
    return keep


def load_config(path: str | Path) -> TrainConfig:
    """Read a YAML training config; relative data paths resolve against the working directory.

    Every value is checked against its declared type and range before
    anything runs; errors name the file, the key and what was expected. A YAML
    syntax error names the file and line; an empty file is an error.
    """
    import os

    import yaml

    # data paths may say ${GOFTAR_DATASETS}: the folder holding the shared NER sets (peyma/, arman/); no default —
    # `make model` sets it for this project's machines, a user sets it where their copies are. Unset, it reads as
    # a path that names the variable, so a missing set is reported as such (and YAML stays parseable).
    unset = "GOFTAR_DATASETS" not in os.environ
    try:
        with open(path, encoding="utf-8") as f:
            raw = f.read()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (byte {exc.start})") from None
    try:
        if unset:
            raw = raw.replace("${GOFTAR_DATASETS}", "GOFTAR_DATASETS-is-not-set").replace("$GOFTAR_DATASETS", "GOFTAR_DATASETS-is-not-set")
        d = yaml.safe_load(os.path.expandvars(raw))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}" + (f":{mark.column + 1}" if mark.column else "") if mark else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}{at}: YAML syntax error: {what}") from None
    if d is None or d == {}:
        raise ConfigError(f"{path}: the config is empty (see configs/default.yaml for one that trains the default model)")
    try:
        return TrainConfig.from_dict(d)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
