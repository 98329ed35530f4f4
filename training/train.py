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
import os
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

    from goftar.inference.cues import Lexicon, default_lexicon
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
    if m.cue_lexicon:  # the lexicon shapes the cue inputs, so the checkpoint keeps its own copy
        model.config.cue_lexicon = Lexicon.from_yaml(m.cue_lexicon).data
    elif not model.config.cue_lexicon:
        model.config.cue_lexicon = default_lexicon().data
    for key in ("relation_threshold", "single_relation_threshold"):  # decision thresholds live in the checkpoint
        if getattr(m, key) is not None:
            setattr(model.config, key, float(getattr(m, key)))
    return model, tok


def train(cfg: TrainConfig, log=print, resume_from: str | Path | None = None) -> dict[str, Any]:
    """Train and return the metrics written to ``metrics.json``.

    ``resume_from`` (a run's ``last/`` folder, or the run folder) continues a
    stopped run where its last checkpoint left it: model, optimiser,
    scheduler, RNG state and position in the epoch.

    The steps: read the data (:func:`_train_rows`, :func:`_dev_sets`), build the
    optimiser and schedule (:func:`_optimizer`), score the starting model on dev
    (or restore the stopped run), then one :meth:`_Run.epoch` after another, each
    ending with a dev evaluation, the best checkpoint and a resume checkpoint.
    """
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from transformers import get_linear_schedule_with_warmup

    from goftar.inference.encode import TextEncoder
    from goftar.inference.normalize import Normalizer

    from .card import write_model_card

    t0 = time.time()
    tc = cfg.train
    set_seed(tc.seed)
    accelerator = Accelerator(mixed_precision=tc.mixed_precision)
    model, tokenizer = load_model(cfg)
    config = model.config
    schema = Schema.from_dict(config.schema)
    encoder = TextEncoder(tokenizer, Normalizer.from_dict(config.normalizer), config.window_length, config.window_stride)
    train_rows = _train_rows(cfg, schema, log)
    dev_sets = _dev_sets(cfg)

    optimizer = _optimizer(model, tc)
    data = _EpochData(train_rows, cfg, encoder, config, schema)
    examples, batches, lost = data.batches(0)
    steps_per_epoch = len(batches)
    total = tc.max_steps or steps_per_epoch * tc.epochs
    epochs = tc.epochs if not tc.max_steps else max(1, math.ceil(tc.max_steps / max(steps_per_epoch, 1)))
    scheduler = get_linear_schedule_with_warmup(optimizer, int(tc.warmup_ratio * total), total)
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)
    log(f"{len(examples)} examples, {steps_per_epoch} steps/epoch, {total} steps, device {accelerator.device}, {lost} gold spans without a token")

    run = _Run(cfg, accelerator, model, tokenizer, optimizer, scheduler, encoder, schema, dev_sets, t0, log)
    start_epoch, start_batch = 0, 0
    if resume_from is not None:
        start_epoch, start_batch = run.restore(resume_from)
    elif dev_sets and tc.eval_start:
        run.score_start()
    run.last_save = time.time()
    for epoch in range(start_epoch, epochs):
        if epoch > 0:
            examples, batches, _ = data.batches(epoch)
        if run.epoch(epoch, epochs, examples, batches, start_batch if epoch == start_epoch else 0):
            break
    metrics = {
        "best_dev_selection": run.best, "history": run.history, "dev": run.best_metrics,
        "train_seconds": round(time.time() - t0, 1), "steps": run.step, "device": str(accelerator.device),
        "config": cfg.to_dict(),
    }
    (run.best_dir / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=1), encoding="utf-8")
    write_model_card(run.best_dir, metrics)
    return metrics


def _train_rows(cfg: TrainConfig, schema: Schema, log) -> Any:
    """Every training source read once, each document with its training annotation, ``repeat`` times:
    a ``datasets.Dataset`` (or a plain list where ``datasets`` is not installed)."""
    from .data import annotation_of, read_source

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

        return Dataset.from_list(records)
    except ImportError as exc:  # a bare GPU image without `datasets`: a plain list serves the same rows
        log(f"datasets unavailable ({exc}); using an in-memory list")
        return records


def _dev_sets(cfg: TrainConfig) -> list[tuple[str, list[Document]]]:
    """``[(name, documents)]`` of the dev sources; two files of the same name get distinct names."""
    from .data import read_source

    dev_sets: list[tuple[str, list[Document]]] = []
    for src in cfg.data.dev:
        docs, _problems = read_source(src)
        if cfg.train.eval_max_docs:
            docs = docs[: cfg.train.eval_max_docs]
        name = src.name or f"{Path(src.path).parent.name}/{Path(src.path).stem}"
        if name in [n for n, _ in dev_sets]:  # two dev files of the same name must not overwrite each other
            name = f"{name}#{len(dev_sets)}"
        dev_sets.append((name, docs))
    return dev_sets


def _optimizer(model, tc):
    """AdamW with the encoder at ``lr`` and the heads at ``head_lr`` (word embeddings frozen if asked)."""
    import torch

    if tc.freeze_embeddings:
        for p in model.encoder.get_input_embeddings().parameters():
            p.requires_grad = False
    enc_params = [p for n, p in model.named_parameters() if n.startswith("encoder.") and p.requires_grad]
    head_params = [p for n, p in model.named_parameters() if not n.startswith("encoder.") and p.requires_grad]
    return torch.optim.AdamW(
        [{"params": enc_params, "lr": tc.lr}, {"params": head_params, "lr": tc.head_lr}], weight_decay=tc.weight_decay,
    )


class _EpochData:
    """One epoch's examples (ZWNJ augmentation drawn per epoch) and their packed batches, reproducible from the seed."""

    def __init__(self, rows, cfg: TrainConfig, encoder, config, schema: Schema):
        from goftar.inference.cues import checkpoint_lexicon

        self.rows, self.cfg, self.encoder, self.config, self.schema = rows, cfg, encoder, config, schema
        self.lexicon = checkpoint_lexicon(config)  # the one load_model stored in the checkpoint

    def examples(self, epoch: int):
        from .data import encode_example, switch_zwnj

        cfg, config = self.cfg, self.config
        r = random.Random(cfg.train.seed * 1000 + epoch)
        out, lost = [], 0
        for row in self.rows:
            d = Document.from_dict(json.loads(row["doc"]))
            if cfg.data.zwnj_augment and r.random() < cfg.data.zwnj_augment:
                d = switch_zwnj(d, r)
            ex = encode_example(d, json.loads(row["annot"]), self.encoder, config.layer_labels, config.relation_types,
                                self.schema, config.allowed_pairs, [n for n, _ in config.relation_features],
                                config.cue_features, self.lexicon)
            lost += ex.n_lost
            if ex.ids:
                out.append(ex)
        return out, lost

    def batches(self, epoch: int):
        from .data import pack

        tc = self.cfg.train
        ex, lost = self.examples(epoch)
        return ex, pack(ex, tc.batch_windows, random.Random(tc.seed * 7919 + epoch)), lost


class _Run:
    """The state of one training run: position, history, best score; evaluates, steps and checkpoints."""

    def __init__(self, cfg, accelerator, model, tokenizer, optimizer, scheduler, encoder, schema, dev_sets, t0, log):
        self.cfg, self.tc = cfg, cfg.train
        self.accelerator, self.model, self.tokenizer = accelerator, model, tokenizer
        self.optimizer, self.scheduler = optimizer, scheduler
        self.encoder, self.schema, self.dev_sets = encoder, schema, dev_sets
        self.layer_labels = accelerator.unwrap_model(model).config.layer_labels
        self.t0, self.log = t0, log
        out_dir = Path(self.tc.output_dir)
        self.best_dir, self.last_dir = out_dir / "best", out_dir / "last"
        self.history: list[dict[str, Any]] = []
        self.best, self.step = -1.0, 0
        self.best_metrics: dict[str, Any] = {}
        self.last_save = time.time()

    def unwrapped(self):
        return self.accelerator.unwrap_model(self.model)

    def evaluate_dev(self) -> tuple[float, dict[str, Any]]:
        from goftar.inference.extractor import Extractor

        from .scoring import score

        ex = Extractor.from_model(self.unwrapped(), self.tokenizer)
        dm = {name: score(docs, predict_documents(ex, docs, self.tc.eval_batch_windows), self.schema)
              for name, docs in self.dev_sets}
        return float(np.mean([selection_score(m) for m in dm.values()])), dm

    def restore(self, resume_from) -> tuple[int, int]:
        state = load_resume_state(resume_from, self.unwrapped(), self.optimizer, self.scheduler)
        self.history, self.best, self.step = state["history"], state["best"], state["step"]
        self.best_metrics = state.get("best_metrics", {})
        self.log(f"resumed from {resume_from}: epoch {state['epoch'] + 1}, batch {state['batch']}, step {self.step}, "
                 f"best {self.best:.4f}")
        return state["epoch"], state["batch"]

    def score_start(self) -> None:
        """The starting model on dev, kept as the first "best": the result is never worse than the start."""
        sel, dm = self.evaluate_dev()
        self.history.append({"epoch": 0, "dev_selection": sel, "dev": {k: _summary(v) for k, v in dm.items()}})
        self.log(json.dumps({"epoch": 0, "dev_selection": sel, "note": "the starting model"}))
        self.best, self.best_metrics = sel, dm
        save_checkpoint(self.unwrapped(), self.tokenizer, self.best_dir, self.cfg, self.tc.save_dtype)

    def save_resume(self, position: dict[str, int]) -> None:
        save_resume_state(self.last_dir, self.unwrapped(), self.tokenizer, self.optimizer, self.scheduler, self.cfg,
                          {**position, "step": self.step, "best": self.best, "history": self.history,
                           "best_metrics": self.best_metrics})
        self.last_save = time.time()

    def epoch(self, epoch: int, epochs: int, examples, batches, first: int) -> bool:
        """Train one epoch from batch ``first``, evaluate and checkpoint; True when the run must stop."""
        from tqdm.auto import tqdm

        from .data import collate

        tc, accelerator, model = self.tc, self.accelerator, self.model
        model.train()
        te = time.time()
        bar = tqdm(range(first, len(batches)), desc=f"epoch {epoch + 1}/{epochs}", disable=not tc.progress, file=sys.stderr,
                   initial=first, total=len(batches))
        run_loss: list[float] = []
        stop = False
        bi = first - 1
        for bi in bar:
            batch = _to_device(collate([examples[i] for i in batches[bi]], self.encoder.pad_id, self.layer_labels),
                               accelerator.device)
            with accelerator.autocast():
                loss, _parts = _loss(model, batch, tc.relation_loss_weight)
            accelerator.backward(loss)
            if tc.grad_clip:
                accelerator.clip_grad_norm_(model.parameters(), tc.grad_clip)
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad()
            run_loss.append(float(loss.detach()))
            bar.set_postfix(loss=f"{np.mean(run_loss[-50:]):.4f}")
            self.step += 1
            if tc.checkpoint_minutes and time.time() - self.last_save > 60 * tc.checkpoint_minutes:
                self.save_resume({"epoch": epoch, "batch": bi + 1})
            if tc.max_steps and self.step >= tc.max_steps:
                stop = True
                break
            if tc.time_limit_minutes and time.time() - self.t0 > 60 * tc.time_limit_minutes:
                self.log(f"time limit of {tc.time_limit_minutes} min reached at step {self.step}")
                stop = True
                break
        entry: dict[str, Any] = {"epoch": epoch + 1, "loss": float(np.mean(run_loss)) if run_loss else None,
                                 "seconds": round(time.time() - te, 1)}
        if self.dev_sets:
            sel, dev_metrics = self.evaluate_dev()
            entry["dev_selection"] = sel
            entry["dev"] = {k: _summary(v) for k, v in dev_metrics.items()}
        else:
            sel, dev_metrics = float(epoch), {}
        self.history.append(entry)
        self.log(json.dumps({k: v for k, v in entry.items() if k != "dev"}))
        if sel > self.best:
            self.best, self.best_metrics = sel, dev_metrics
            save_checkpoint(self.unwrapped(), self.tokenizer, self.best_dir, self.cfg, tc.save_dtype)
        finished = bi + 1 >= len(batches) if len(batches) else True
        # the position after this epoch: the next epoch, or the rest of this one when stopped early
        pos = {"epoch": epoch + 1, "batch": 0} if finished and not stop else {"epoch": epoch, "batch": (bi + 1) if len(batches) else 0}
        if tc.checkpoint_minutes:
            self.save_resume(pos)
        return stop


def _loss(model, batch, weight):
    from .loss import batch_loss

    return batch_loss(model, batch, weight)


def _summary(m: dict[str, Any]) -> dict[str, Any]:
    out = {f"{layer}_f1": round(v.get("micro", {}).get("f1", 0.0), 4) for layer, v in (m.get("entities") or {}).items()}
    out.update({f"{r}_f1": round(v.get("f1", 0.0), 4) for r, v in (m.get("relations") or {}).items() if isinstance(v, dict)})
    return out


def portable_path(path: str | Path) -> str:
    """A source path as a checkpoint records it: under ``$GOFTAR_DATASETS`` as ``${GOFTAR_DATASETS}/…``,
    under the working directory relative to it, else as given (so no machine's folders are shipped)."""
    p = Path(path)
    for base, shown in ((os.environ.get("GOFTAR_DATASETS"), "${GOFTAR_DATASETS}"), (os.getcwd(), None)):
        if base and p.is_absolute():
            try:
                rel = p.resolve().relative_to(Path(base).resolve())
            except ValueError:
                continue
            return f"{shown}/{rel.as_posix()}" if shown else rel.as_posix()
    return str(path)


def save_checkpoint(model, tokenizer, path: Path, cfg: TrainConfig | None = None, dtype: str = "float32") -> None:
    """safetensors weights + config + tokenizer: everything ``from_pretrained`` needs."""
    import torch

    path.mkdir(parents=True, exist_ok=True)
    if cfg is not None:
        model.config.training = {"train_sources": [portable_path(s.path) for s in cfg.data.train], "seed": cfg.train.seed}
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
