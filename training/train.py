"""``goftar train``: fine-tune a goftar model from a typed YAML config.

    goftar train --config configs/default.yaml
    goftar train --init-from models/goftar-fa-small --train theirs.jsonl --keep-original

Fixed seeds; accelerate picks the device and precision; dev evaluation after
every epoch; the best checkpoint is kept in ``OUTPUT_DIR/best`` with
``metrics.json`` beside it.
"""
from __future__ import annotations

import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from goftar.inference.document import Document
from goftar.inference.schema import Schema

from .config import SourceConfig, TrainConfig, load_config


def _to_device(x, device):
    import torch

    if torch.is_tensor(x):
        return x.to(device)
    if isinstance(x, dict):
        return {k: _to_device(v, device) for k, v in x.items()}
    if isinstance(x, list):
        return [_to_device(v, device) for v in x]
    return x


def selection_score(metrics: dict[str, Any]) -> float:
    """Mean of what a dev set can measure: each layer's entity micro F1, each relation type's F1, and the
    speaker attribution accuracy (who said each quote, the question goftar answers)."""
    vals = []
    for layer, per in (metrics.get("entities") or {}).items():
        m = per.get("micro") or {}
        if m.get("support", 0) > 0:
            vals.append(m.get("f1", 0.0))
    for rel, m in (metrics.get("relations") or {}).items():
        if isinstance(m, dict) and m.get("support", 0) > 0:
            vals.append(m.get("f1", 0.0))
    sa = metrics.get("speaker_attribution") or {}
    if sa.get("total"):
        vals.append(sa.get("accuracy", 0.0))
    return float(np.mean(vals)) if vals else 0.0


def predict_documents(extractor, docs: list[Document], batch_size: int = 8) -> list[Document]:
    preds = extractor([{"id": d.id, "text": d.text} for d in docs], batch_size=batch_size)
    return preds


def load_model(cfg: TrainConfig):
    """The model and tokenizer to train: a goftar checkpoint (init_from) or a fresh model on an encoder."""
    from transformers import AutoTokenizer

    from goftar.inference.modeling import GoftarModel

    from goftar.inference.decode import DECODE_DEFAULTS

    from .upgrade import upgrade

    m = cfg.model
    if m.init_from:
        model = GoftarModel.from_pretrained(m.init_from)
        model = model.float()
        tok = AutoTokenizer.from_pretrained(m.init_from)
    else:
        model = GoftarModel.from_encoder(
            m.encoder, window_length=m.window_length, window_stride=m.window_stride,
            classifier_dropout=m.classifier_dropout, relation_hidden=m.relation_hidden, normalizer=m.normalizer,
        )
        tok = AutoTokenizer.from_pretrained(m.encoder)
    model = upgrade(model, m.cue_features, m.relation_features, {**DECODE_DEFAULTS, **(model.config.decode or {}), **m.decode})
    for key in ("relation_threshold", "single_relation_threshold"):  # decision thresholds live in the checkpoint
        if getattr(m, key) is not None:
            setattr(model.config, key, float(getattr(m, key)))
    return model, tok


def train(cfg: TrainConfig, log=print, resume_from: str | Path | None = None) -> dict[str, Any]:
    """Train and return the metrics written to ``metrics.json``.

    ``resume_from`` (a run's ``last/`` folder, or the run folder) continues a
    stopped run where its last checkpoint left it: model, optimiser,
    scheduler, RNG state and position in the epoch.
    """
    import torch
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    from goftar.inference.encode import TextEncoder
    from goftar.inference.extractor import Extractor
    from goftar.inference.normalize import Normalizer

    from .card import write_model_card
    from .data import annotation_of, collate, encode_example, pack, read_source, switch_zwnj
    from .scoring import score

    t0 = time.time()
    tc = cfg.train
    set_seed(tc.seed)
    rng = random.Random(tc.seed)
    accelerator = Accelerator(mixed_precision=tc.mixed_precision)
    model, tokenizer = load_model(cfg)
    config = model.config
    schema = Schema.from_dict(config.schema)
    layer_labels = config.layer_labels
    encoder = TextEncoder(tokenizer, Normalizer.from_dict(config.normalizer), config.window_length, config.window_stride)

    # -- data ---------------------------------------------------------------
    records = []
    for src in cfg.data.train:
        docs, problems = read_source(src)
        for p in problems:
            log(f"skipped: {p}")
        n0 = len(records)
        for d in docs:
            if not d.text.strip():
                continue
            annot = annotation_of(d, src, schema)
            for _ in range(max(1, src.repeat)):
                records.append({"doc": d.to_json(), "annot": json.dumps(annot)})
        log(f"train source {src.name or src.path}: {len(docs)} documents × {src.repeat} → {len(records) - n0} examples")
    if not records:
        raise ValueError("no training documents: check data.train in the config")
    try:
        from datasets import Dataset

        train_ds = Dataset.from_list(records)
    except ImportError as exc:  # a bare GPU image without `datasets`: a plain list serves the same rows
        log(f"datasets unavailable ({exc}); using an in-memory list")
        train_ds = records
    dev_sets = []
    for src in cfg.data.dev:
        docs, problems = read_source(src)
        if tc.eval_max_docs:
            docs = docs[: tc.eval_max_docs]
        name = src.name or f"{Path(src.path).parent.name}/{Path(src.path).stem}"
        if name in [n for n, _ in dev_sets]:  # two dev files of the same name must not overwrite each other
            name = f"{name}#{len(dev_sets)}"
        dev_sets.append((name, docs))

    def epoch_examples(epoch: int):
        r = random.Random(tc.seed * 1000 + epoch)
        out, lost = [], 0
        for row in train_ds:
            d = Document.from_dict(json.loads(row["doc"]))
            if cfg.data.zwnj_augment and r.random() < cfg.data.zwnj_augment:
                d = switch_zwnj(d, r)
            ex = encode_example(d, json.loads(row["annot"]), encoder, layer_labels, config.relation_types, schema,
                                config.allowed_pairs, [n for n, _ in config.relation_features], config.cue_features)
            lost += ex.n_lost
            if ex.ids:
                out.append(ex)
        return out, lost

    # -- optimisation ---------------------------------------------------------
    if tc.freeze_embeddings:
        for p in model.encoder.get_input_embeddings().parameters():
            p.requires_grad = False
    enc_params = [p for n, p in model.named_parameters() if n.startswith("encoder.") and p.requires_grad]
    head_params = [p for n, p in model.named_parameters() if not n.startswith("encoder.") and p.requires_grad]
    optimizer = torch.optim.AdamW(
        [{"params": enc_params, "lr": tc.lr}, {"params": head_params, "lr": tc.head_lr}], weight_decay=tc.weight_decay,
    )
    def epoch_batches(epoch: int):
        ex_, lost_ = epoch_examples(epoch)
        return ex_, pack(ex_, tc.batch_windows, random.Random(tc.seed * 7919 + epoch)), lost_

    examples, batches, lost = epoch_batches(0)
    steps_per_epoch = len(batches)
    total = tc.max_steps or steps_per_epoch * tc.epochs
    epochs = tc.epochs if not tc.max_steps else max(1, math.ceil(tc.max_steps / max(steps_per_epoch, 1)))
    scheduler = get_linear_schedule_with_warmup(optimizer, int(tc.warmup_ratio * total), total)
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    log(f"{len(examples)} examples, {steps_per_epoch} steps/epoch, {total} steps, device {accelerator.device}, {lost} gold spans without a token")

    out_dir = Path(tc.output_dir)
    best_dir = out_dir / "best"
    last_dir = out_dir / "last"
    history, best, step = [], -1.0, 0
    best_metrics: dict[str, Any] = {}
    start_epoch, start_batch = 0, 0

    def evaluate_dev() -> tuple[float, dict[str, Any]]:
        ex = Extractor.from_model(accelerator.unwrap_model(model), tokenizer)
        dm = {name: score(docs, predict_documents(ex, docs, tc.eval_batch_windows), schema) for name, docs in dev_sets}
        return float(np.mean([selection_score(m) for m in dm.values()])), dm

    if resume_from is not None:
        state = load_resume_state(resume_from, accelerator.unwrap_model(model), optimizer, scheduler)
        history, best, step = state["history"], state["best"], state["step"]
        best_metrics = state.get("best_metrics", {})
        start_epoch, start_batch = state["epoch"], state["batch"]
        log(f"resumed from {resume_from}: epoch {start_epoch + 1}, batch {start_batch}, step {step}, best {best:.4f}")
    elif dev_sets and tc.eval_start:
        sel, dm = evaluate_dev()
        history.append({"epoch": 0, "dev_selection": sel, "dev": {k: _summary(v) for k, v in dm.items()}})
        log(json.dumps({"epoch": 0, "dev_selection": sel, "note": "the starting model"}))
        best, best_metrics = sel, dm
        save_checkpoint(accelerator.unwrap_model(model), tokenizer, best_dir, cfg, tc.save_dtype)
    last_save = time.time()
    stop = False
    for epoch in range(start_epoch, epochs):
        if epoch > 0:
            examples, batches, _ = epoch_batches(epoch)
        model.train()
        te = time.time()
        first = start_batch if epoch == start_epoch else 0
        bar = tqdm(range(first, len(batches)), desc=f"epoch {epoch + 1}/{epochs}", disable=not tc.progress, file=sys.stderr,
                   initial=first, total=len(batches))
        run_loss = []
        for bi in bar:
            b = batches[bi]
            batch = _to_device(collate([examples[i] for i in b], encoder.pad_id, layer_labels), accelerator.device)
            with accelerator.autocast():
                loss, parts = _loss(model, batch, tc.relation_loss_weight)
            accelerator.backward(loss)
            if tc.grad_clip:
                accelerator.clip_grad_norm_(model.parameters(), tc.grad_clip)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            run_loss.append(float(loss.detach()))
            bar.set_postfix(loss=f"{np.mean(run_loss[-50:]):.4f}")
            step += 1
            if tc.checkpoint_minutes and time.time() - last_save > 60 * tc.checkpoint_minutes:
                save_resume_state(last_dir, accelerator.unwrap_model(model), tokenizer, optimizer, scheduler, cfg,
                                  {"epoch": epoch, "batch": bi + 1, "step": step, "best": best, "history": history,
                                   "best_metrics": best_metrics})
                last_save = time.time()
            if tc.max_steps and step >= tc.max_steps:
                stop = True
                break
            if tc.time_limit_minutes and time.time() - t0 > 60 * tc.time_limit_minutes:
                log(f"time limit of {tc.time_limit_minutes} min reached at step {step}")
                stop = True
                break
        epoch_time = time.time() - te
        entry: dict[str, Any] = {"epoch": epoch + 1, "loss": float(np.mean(run_loss)) if run_loss else None, "seconds": round(epoch_time, 1)}
        unwrapped = accelerator.unwrap_model(model)
        if dev_sets:
            sel, dev_metrics = evaluate_dev()
            entry["dev_selection"] = sel
            entry["dev"] = {k: _summary(v) for k, v in dev_metrics.items()}
        else:
            sel, dev_metrics = float(epoch), {}
        history.append(entry)
        log(json.dumps({k: v for k, v in entry.items() if k != "dev"}))
        if sel > best:
            best, best_metrics = sel, dev_metrics
            save_checkpoint(unwrapped, tokenizer, best_dir, cfg, tc.save_dtype)
        finished = bi + 1 >= len(batches) if len(batches) else True
        # the position after this epoch: the next epoch, or the rest of this one when stopped early
        pos = {"epoch": epoch + 1, "batch": 0} if finished and not stop else {"epoch": epoch, "batch": (bi + 1) if len(batches) else 0}
        if tc.checkpoint_minutes:
            save_resume_state(last_dir, unwrapped, tokenizer, optimizer, scheduler, cfg,
                              {**pos, "step": step, "best": best, "history": history, "best_metrics": best_metrics})
            last_save = time.time()
        if stop:
            break
    metrics = {
        "best_dev_selection": best, "history": history, "dev": best_metrics,
        "train_seconds": round(time.time() - t0, 1), "steps": step, "device": str(accelerator.device),
        "config": cfg.to_dict(),
    }
    (best_dir / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=1), encoding="utf-8")
    write_model_card(best_dir, metrics)
    return metrics


def _loss(model, batch, weight):
    from .loss import batch_loss

    return batch_loss(model, batch, weight)


def _summary(m: dict[str, Any]) -> dict[str, Any]:
    out = {f"{layer}_f1": round(v.get("micro", {}).get("f1", 0.0), 4) for layer, v in (m.get("entities") or {}).items()}
    out.update({f"{r}_f1": round(v.get("f1", 0.0), 4) for r, v in (m.get("relations") or {}).items() if isinstance(v, dict)})
    return out


def save_checkpoint(model, tokenizer, path: Path, cfg: TrainConfig | None = None, dtype: str = "float32") -> None:
    """safetensors weights + config + tokenizer: everything ``from_pretrained`` needs."""
    import torch

    path.mkdir(parents=True, exist_ok=True)
    if cfg is not None:
        model.config.training = {"train_sources": [s.path for s in cfg.data.train], "seed": cfg.train.seed}
    state = None
    if dtype == "float16":
        state = {k: v.detach().to(torch.float16) for k, v in model.state_dict().items()}
    model.save_pretrained(path, state_dict=state, safe_serialization=True)
    tokenizer.save_pretrained(path)


def save_resume_state(path: Path, model, tokenizer, optimizer, scheduler, cfg: TrainConfig, state: dict[str, Any]) -> None:
    """A resumable checkpoint: weights (float32), optimiser, scheduler, RNG states, position, the config.

    Written to a temporary folder beside ``path`` and moved into place, so a run
    killed while saving keeps its previous checkpoint.
    """
    import shutil

    import torch

    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    save_checkpoint(model, tokenizer, tmp, cfg, "float32")
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, tmp / "optimizer.pt")
    rng = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    torch.save(rng, tmp / "rng.pt")
    (tmp / "trainer_state.json").write_text(json.dumps({**state, "config": cfg.to_dict()}, ensure_ascii=False, indent=1), encoding="utf-8")
    old = path.with_name(path.name + ".old")
    if path.exists():
        if old.exists():
            shutil.rmtree(old)
        path.rename(old)
    tmp.rename(path)
    if old.exists():
        shutil.rmtree(old)


def resume_dir(run: str | Path) -> Path:
    """The ``last/`` checkpoint of a run folder (or the folder itself), checked for every file a resume needs."""
    p = Path(run)
    if (p / "last").is_dir():
        p = p / "last"
    missing = [f for f in ("trainer_state.json", "optimizer.pt", "rng.pt", "config.json") if not (p / f).exists()]
    if missing:
        raise FileNotFoundError(f"{p} is not a resumable checkpoint (missing {', '.join(missing)}); "
                                f"a run writes RUN_DIR/last every train.checkpoint_minutes")
    return p


def load_resume_state(run: str | Path, model, optimizer, scheduler) -> dict[str, Any]:
    """Restore weights, optimiser, scheduler and RNG state from :func:`save_resume_state`; returns the position."""
    import torch
    from safetensors.torch import load_file

    p = resume_dir(run)
    state_dict = {}
    for f in sorted(p.glob("*.safetensors")):
        state_dict.update(load_file(str(f)))
    missing, unexpected = model.load_state_dict(state_dict, strict=False)
    if missing or unexpected:
        raise ValueError(f"{p}: the checkpoint does not fit the model (missing {missing[:3]}, unexpected {unexpected[:3]})")
    opt = torch.load(p / "optimizer.pt", weights_only=False)
    optimizer.load_state_dict(opt["optimizer"])
    scheduler.load_state_dict(opt["scheduler"])
    rng = torch.load(p / "rng.pt", weights_only=False)
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
    torch.set_rng_state(rng["torch"])
    return json.loads((p / "trainer_state.json").read_text(encoding="utf-8"))


def register(sub) -> None:
    p = sub.add_parser("train", help="fine-tune a goftar model from a YAML config")
    p.add_argument("--config", help="YAML training config (configs/default.yaml)")
    p.add_argument("--init-from", help="continue from a goftar checkpoint folder")
    p.add_argument("--train", nargs="+", help="training files (any format goftar convert reads); replaces data.train unless --keep-original")
    p.add_argument("--keep-original", action="store_true", help="with --train: keep the config's sources (without --config: the project's corpus, plus PEYMA/ARMAN when GOFTAR_DATASETS points at them) so old skills are kept")
    p.add_argument("--dev", nargs="+", help="dev files (replace data.dev)")
    p.add_argument("--output-dir", help="where checkpoints and metrics go (replaces train.output_dir)")
    p.add_argument("--epochs", type=int, help="passes over the training data (replaces train.epochs)")
    p.add_argument("--max-steps", type=int, help="stop after this many optimiser steps")
    p.add_argument("--mixed-precision", choices=["no", "fp16", "bf16"], help="accelerate mixed precision (default: the config's)")
    p.add_argument("--lr", type=float, help="encoder learning rate (the heads use --head-lr)")
    p.add_argument("--head-lr", type=float, help="learning rate of the heads")
    p.add_argument("--time-limit-minutes", type=float, help="stop, evaluate and save once this much time has passed")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a stopped run from RUN_DIR/last (its config is used unless --config is given)")
    p.set_defaults(func=_cmd_train)


def _cmd_train(args) -> int:
    from .config import KEEP_ORIGINAL_BASE, available_sources, check_paths

    resume = None
    if getattr(args, "resume", None):
        resume = resume_dir(args.resume)
        if not args.config:
            saved = json.loads((resume / "trainer_state.json").read_text(encoding="utf-8"))["config"]
            cfg = TrainConfig.from_dict(saved)
            metrics = train(cfg, log=lambda s: print(s, file=sys.stderr), resume_from=resume)
            print(json.dumps({"best_dev_selection": metrics["best_dev_selection"], "checkpoint": str(Path(cfg.train.output_dir) / "best")}))
            return 0
    # --keep-original without --config: the project's own recipe for continuing (configs/continue.yaml)
    base = args.config or (str(KEEP_ORIGINAL_BASE) if args.keep_original else None)
    cfg = load_config(base) if base else TrainConfig()
    if args.init_from:
        cfg.model.init_from = args.init_from
    if args.keep_original:
        cfg.data.train = available_sources(cfg.data.train, log=lambda s: print(s, file=sys.stderr))
        cfg.data.dev = available_sources(cfg.data.dev, log=lambda s: print(s, file=sys.stderr))
    if args.train:
        new = [SourceConfig(path=p) for p in args.train]
        cfg.data.train = (cfg.data.train + new) if args.keep_original else new
    if args.dev:
        cfg.data.dev = [SourceConfig(path=p) for p in args.dev]
    if args.output_dir:
        cfg.train.output_dir = args.output_dir
    if args.epochs:
        cfg.train.epochs = args.epochs
    if args.max_steps:
        cfg.train.max_steps = args.max_steps
    if args.lr:
        cfg.train.lr = args.lr
    if args.head_lr:
        cfg.train.head_lr = args.head_lr
    if args.time_limit_minutes:
        cfg.train.time_limit_minutes = args.time_limit_minutes
    if args.mixed_precision:
        cfg.train.mixed_precision = args.mixed_precision
    if not cfg.model.init_from and not base:
        print("goftar train: give --config FILE or --init-from CHECKPOINT", file=sys.stderr)
        return 2
    check_paths(cfg)
    metrics = train(cfg, log=lambda s: print(s, file=sys.stderr), resume_from=resume)
    print(json.dumps({"best_dev_selection": metrics["best_dev_selection"], "checkpoint": str(Path(cfg.train.output_dir) / "best")}))
    return 0
