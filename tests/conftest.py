"""Shared fixtures: a tiny BERT encoder (2 layers, hidden 32) with a WordPiece
tokenizer trained on the test texts themselves — offline, built in seconds."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import NEW_TEXTS, SEED
from tests.skipguard import (  # noqa: F401  (hooks: a skip without an opt-out fails the run)
    pytest_collectreport, pytest_runtest_logreport, pytest_sessionfinish, pytest_terminal_summary,
)


@pytest.fixture(scope="session")
def seed_path() -> Path:
    return SEED


@pytest.fixture(scope="session")
def seed_doc():
    from goftar.inference.document import read_jsonl

    return read_jsonl(SEED)[0]


def build_tiny_encoder(folder: Path, texts: list[str], vocab_size: int = 600) -> Path:
    """Save a random tiny BERT + fast tokenizer in the layout of a hub checkpoint."""
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    from goftar.inference.normalize import Normalizer

    norm = Normalizer()
    wp = BertWordPieceTokenizer(lowercase=False, strip_accents=False, clean_text=True)
    wp.train_from_iterator([norm.compact(t)[0] for t in texts], vocab_size=vocab_size, min_frequency=1, show_progress=False)
    folder.mkdir(parents=True, exist_ok=True)
    tok = PreTrainedTokenizerFast(tokenizer_object=wp._tokenizer, unk_token="[UNK]", pad_token="[PAD]",
                                  cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    tok.save_pretrained(folder)
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=512)
    import torch

    torch.manual_seed(0)
    BertModel(cfg).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory, seed_doc) -> Path:
    extra = ["کتاب‌های تازه در تهران", "Latin only text 123", "وی گفت: همکاری های اقتصادی", *NEW_TEXTS]
    return build_tiny_encoder(tmp_path_factory.mktemp("tiny-encoder"), [seed_doc.text, *extra])


@pytest.fixture(scope="session")
def untrained(tiny_encoder):
    """A factory: ``untrained(window_length, window_stride, seed)`` gives a fresh goftar model on the
    tiny encoder (random heads drawn under ``seed``) and the encoder's tokenizer."""
    def make(window_length: int = 64, window_stride: int = 48, seed: int | None = 0):
        import torch
        from transformers import AutoTokenizer

        from goftar.inference.modeling import GoftarModel

        if seed is not None:
            torch.manual_seed(seed)
        model = GoftarModel.from_encoder(str(tiny_encoder), window_length=window_length, window_stride=window_stride)
        return model, AutoTokenizer.from_pretrained(str(tiny_encoder))

    return make


@pytest.fixture(scope="session")
def trained_tiny(tmp_path_factory, tiny_encoder, seed_path) -> Path:
    """A tiny goftar model trained a few dozen steps on the seed article (shared by several tests)."""
    from goftar.training.config import TrainConfig
    from goftar.training.train import train

    out = tmp_path_factory.mktemp("run")
    cfg = TrainConfig.from_dict({
        "model": {"encoder": str(tiny_encoder), "window_length": 64, "window_stride": 48},
        "data": {"train": [{"path": str(seed_path), "repeat": 8}], "dev": [{"path": str(seed_path)}], "zwnj_augment": 0.0},
        "train": {"output_dir": str(out), "epochs": 16, "batch_windows": 16, "lr": 3e-3, "head_lr": 3e-3,
                  "warmup_ratio": 0.0, "progress": False, "seed": 1},
    })
    metrics = train(cfg, log=lambda s: None)
    (out / "best" / "_history.json").write_text(json.dumps(metrics["history"]))
    return out / "best"
