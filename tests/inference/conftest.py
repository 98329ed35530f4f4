"""Fixtures shared by the runtime tests (tests/conftest.py holds the tiny encoder and models)."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def onnx_tiny(trained_tiny, tmp_path_factory, seed_doc) -> Path:
    """The tiny trained model exported to ONNX (int8), for the torch-free runtime and the Ray engine."""
    from goftar.training.export import export

    out = tmp_path_factory.mktemp("onnx") / "tiny-onnx"
    # two outliers of the tiny model's 8 products, so that some are smoothed and quantised
    export(trained_tiny, out, keep_fp32=("heads", "outliers:2"), calibration=[seed_doc.text], log=lambda s: None)
    return out
