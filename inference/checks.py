"""Check a model folder before using it: a broken one must fail with one line naming the file, never run.

transformers loads a checkpoint that lacks tensors with random weights (it
only logs "newly initialized"), reports a truncated config.json without its
name and a missing tokenizer.json as "install sentencepiece or tiktoken".
:func:`check_model_folder` looks first:

- ``config.json`` parses, is a goftar config, and its ``goftar_version`` is
  one this code knows (not newer than it);
- ``tokenizer.json`` is there and parses (``tokenizer_config.json`` too, when present);
- torch checkpoints: every tensor the architecture needs is in the
  safetensors files, with its shape and a dtype of the right kind, and no file
  is truncated (the headers are read, not the weights);
- ONNX exports: the graphs of the precision asked for are there and not empty.

Every failure is a :class:`~goftar.inference.errors.ModelError` whose message
starts with the file.
"""
from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import Any

from .errors import ModelError

SAFETENSORS_DTYPES = {  # name → (kind, bytes per element)
    "F64": ("float", 8), "F32": ("float", 4), "F16": ("float", 2), "BF16": ("float", 2),
    "F8_E4M3": ("float", 1), "F8_E5M2": ("float", 1),
    "I64": ("int", 8), "I32": ("int", 4), "I16": ("int", 2), "I8": ("int", 1), "U8": ("int", 1),
    "U16": ("int", 2), "U32": ("int", 4), "U64": ("int", 8), "BOOL": ("bool", 1),
}


def _version_tuple(v: str) -> tuple[int, ...] | None:
    m = re.match(r"^(\d+)\.(\d+)(?:\.(\d+))?", str(v))
    return tuple(int(x or 0) for x in m.groups()) if m else None


def read_json(path: Path, what: str = "JSON") -> Any:
    if not path.exists():
        raise ModelError(f"{path}: missing")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ModelError(f"{path}: not UTF-8 (byte {exc.start}); the file is damaged") from None
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: invalid {what} at line {exc.lineno} column {exc.colno} ({exc.msg}); "
                         f"the file is truncated or damaged") from None


def check_config(path: Path) -> dict[str, Any]:
    """The parsed config.json of a goftar folder, its type and version checked."""
    from . import __version__

    cfg_path = path / "config.json"
    if not cfg_path.exists():
        raise ModelError(f"{cfg_path}: missing, so {path} is not a goftar model folder. Train one with "
                         f"`goftar train --config configs/default.yaml`, or use the shipped model (no --model)")
    cfg = read_json(cfg_path, "JSON")
    if not isinstance(cfg, dict):
        raise ModelError(f"{cfg_path}: expected a JSON object, got {type(cfg).__name__}")
    if cfg.get("model_type") != "goftar":
        raise ModelError(
            f"{cfg_path}: a {cfg.get('model_type')!r} model, not a goftar checkpoint. To train goftar on this "
            f"encoder: `goftar train` with model.encoder: {path}")
    version = cfg.get("goftar_version")
    have, mine = _version_tuple(version) if version else None, _version_tuple(__version__)
    if have is None:
        raise ModelError(f"{cfg_path}: no goftar_version (or not a version: {version!r}); this is not a checkpoint goftar wrote")
    if mine and have[:2] > mine[:2]:
        raise ModelError(f"{cfg_path}: written by goftar {version}, newer than this goftar {__version__}; upgrade goftar")
    for key in ("layer_labels", "relation_types", "schema"):
        if key not in cfg:
            raise ModelError(f"{cfg_path}: no {key!r}; the config is incomplete")
    return cfg


def check_tokenizer(path: Path) -> None:
    tok = path / "tokenizer.json"
    if not tok.exists():
        raise ModelError(f"{tok}: missing; goftar needs the model's fast tokenizer file (copy it from the checkpoint "
                         f"or encoder the model was trained from)")
    from tokenizers import Tokenizer

    try:
        Tokenizer.from_file(str(tok))
    except Exception as exc:
        raise ModelError(f"{tok}: does not parse as a tokenizer ({str(exc).splitlines()[0][:200]}); the file is truncated or damaged") from None
    if (path / "tokenizer_config.json").exists():
        read_json(path / "tokenizer_config.json")


def safetensors_header(file: Path) -> dict[str, dict[str, Any]]:
    """The tensors listed in a safetensors file (name → dtype, shape, offsets), its size checked against them."""
    size = file.stat().st_size
    with open(file, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ModelError(f"{file}: truncated (only {size} bytes)")
        (n,) = struct.unpack("<Q", head)
        if n > size - 8 or n > 100 * 2**20:
            raise ModelError(f"{file}: truncated or not a safetensors file (header of {n} bytes in a file of {size})")
        try:
            header = json.loads(f.read(n).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ModelError(f"{file}: damaged safetensors header") from None
    header.pop("__metadata__", None)
    data = size - 8 - n
    for name, t in header.items():
        begin, end = t["data_offsets"]
        kind = SAFETENSORS_DTYPES.get(t["dtype"])
        count = 1
        for d in t["shape"]:
            count *= d
        if kind and end - begin != count * kind[1]:
            raise ModelError(f"{file}: tensor {name} has {end - begin} bytes for shape {t['shape']} {t['dtype']}; the file is damaged")
        if end > data:
            raise ModelError(f"{file}: truncated ({size} bytes; tensor {name} ends at byte {8 + n + end})")
    return header


def weight_files(path: Path) -> dict[str, Path]:
    """Tensor name → the safetensors file holding it."""
    index = path / "model.safetensors.index.json"
    single = path / "model.safetensors"
    if index.exists():
        idx = read_json(index)
        wm = idx.get("weight_map") if isinstance(idx, dict) else None
        if not isinstance(wm, dict):
            raise ModelError(f"{index}: no weight_map")
        files = {f: path / f for f in set(wm.values())}
        for f in files.values():
            if not f.exists():
                raise ModelError(f"{f}: missing (listed in {index.name})")
        out: dict[str, Path] = {}
        for f in files.values():
            for name in safetensors_header(f):
                out[name] = f
        for name, f in wm.items():
            if name not in out:
                raise ModelError(f"{path / f}: has no tensor {name} although {index.name} says it does")
        return out
    if single.exists():
        return {name: single for name in safetensors_header(single)}
    if (path / "pytorch_model.bin").exists():
        raise ModelError(f"{path / 'pytorch_model.bin'}: pickled weights are not loaded (they can run code); "
                         f"save the checkpoint as safetensors")
    raise ModelError(f"{single}: missing (no model.safetensors or model.safetensors.index.json in {path})")


def expected_tensors(cfg: dict[str, Any]) -> dict[str, tuple[tuple[int, ...], str]]:
    """Name → (shape, dtype kind) of every tensor a model of ``cfg`` loads, from the architecture on the meta device."""
    import torch

    from .modeling import GoftarConfig, GoftarModel

    config = GoftarConfig.from_dict({k: v for k, v in cfg.items() if k != "onnx"})
    with torch.device("meta"):
        model = GoftarModel(config)
    out = {}
    for name, t in model.state_dict().items():
        kind = "float" if t.dtype.is_floating_point else ("bool" if t.dtype == torch.bool else "int")
        out[name] = (tuple(t.shape), kind)
    return out


def check_weights(path: Path, cfg: dict[str, Any]) -> None:
    have = weight_files(path)
    headers: dict[Path, dict[str, Any]] = {}
    missing, wrong = [], []
    for name, (shape, kind) in expected_tensors(cfg).items():
        f = have.get(name)
        if f is None:
            missing.append(name)
            continue
        if f not in headers:
            headers[f] = safetensors_header(f)
        t = headers[f][name]
        got_kind = SAFETENSORS_DTYPES.get(t["dtype"], ("?", 0))[0]
        if tuple(t["shape"]) != shape or got_kind != kind:
            wrong.append(f"{f.name}: {name} is {t['dtype']}{list(t['shape'])}, expected {kind}{list(shape)}")
    where = path / "model.safetensors.index.json" if (path / "model.safetensors.index.json").exists() else path / "model.safetensors"
    if missing:
        raise ModelError(f"{where}: {len(missing)} of the model's tensors are missing (e.g. {', '.join(missing[:3])}); "
                         f"the checkpoint is incomplete and would run with random weights")
    if wrong:
        raise ModelError(f"{path / wrong[0].split(':')[0]}: {len(wrong)} tensors have the wrong shape or dtype "
                         f"({wrong[0].split(': ', 1)[1]}); the checkpoint does not match its config.json")


def check_onnx(path: Path, cfg: dict[str, Any], precision: str) -> None:
    info = cfg.get("onnx")
    files = (info or {}).get("files", {}).get(precision) if isinstance(info, dict) else None
    if not isinstance(files, dict):
        raise ModelError(f"{path / 'config.json'}: the onnx section lists no {precision} graphs; re-run `goftar export`")
    for f in files.values():
        p = path / f
        if not p.exists():
            raise ModelError(f"{p}: missing; re-run `goftar export` for this model")
        if p.stat().st_size < 64:
            raise ModelError(f"{p}: truncated ({p.stat().st_size} bytes); re-run `goftar export`")


def check_model_folder(path: str | Path, backend: str = "auto", precision: str = "int8", weights: bool = True) -> str:
    """Check ``path`` for ``backend`` ("auto", "torch" or "onnx"); return the backend to use.

    Raises :class:`ModelError` naming the file and what is wrong.
    """
    path = Path(path)
    if not path.exists():
        raise ModelError(f"{path}: no such model folder")
    if not path.is_dir():
        raise ModelError(f"{path}: not a folder; --model takes a goftar checkpoint or `goftar export` folder")
    cfg = check_config(path)
    is_export = "onnx" in cfg
    if backend == "auto":
        backend = "onnx" if is_export else "torch"
    if backend == "onnx" and not is_export:
        raise ModelError(f"{path / 'config.json'}: {path} is a goftar checkpoint but not an ONNX export (config.json has "
                         f"no 'onnx' section). Export it first: goftar export --model {path} --out {path}-onnx")
    check_tokenizer(path)
    if backend == "onnx":
        if precision not in ("int8", "fp32"):
            raise ValueError(f"precision must be one of ('int8', 'fp32'), not {precision!r}")
        check_onnx(path, cfg, precision)
    elif is_export and not any((path / f).exists() for f in ("model.safetensors", "model.safetensors.index.json")):
        raise ModelError(f"{path}: an ONNX export without torch weights; use --backend onnx (or auto)")
    elif weights:
        check_weights(path, cfg)
    return backend
