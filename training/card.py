"""The model card written beside every checkpoint."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_model_card(path: Path, metrics: dict[str, Any], extra: str = "") -> None:
    cfg = metrics.get("config", {})
    sources = [s.get("path") for s in cfg.get("data", {}).get("train", [])]
    lines = [
        "---", "language: fa", "library_name: goftar", "tags: [token-classification, relation-extraction, quotes, persian]", "---", "",
        "# goftar model", "",
        "Persian news information extraction: named entities, titles (ROLE), sectors with categories, quotes, "
        "and the relations said_by / role_of / topic, in the format of goftar's ANNOTATION.md.", "",
        "## Intended use", "",
        "Batch extraction over Persian news text for analysts and researchers. Not for decisions about individuals; "
        "speaker attribution is a model guess and carries a score.", "",
        "## Training data", "",
        *[f"- `{s}`" for s in sources], "",
        f"Encoder: `{cfg.get('model', {}).get('init_from') or cfg.get('model', {}).get('encoder')}`.", "",
        "## Dev metrics (best epoch)", "", "```json",
        json.dumps({k: v for k, v in metrics.items() if k in ("best_dev_selection", "train_seconds", "steps", "device")}, indent=1),
        "```", "", extra,
    ]
    (Path(path) / "README.md").write_text("\n".join(lines), encoding="utf-8")
