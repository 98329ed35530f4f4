"""Copy a trained checkpoint to the shipped location in fp16 safetensors shards.

    python scripts/ship_model.py runs/continue/best models/goftar-fa-small

fp16 keeps the model under 60 MB; shards stay under 20 MB each so the
repository never holds one huge file. The tokenizer, config and model card
(README.md, if the source has one and the target does not) come along; the
target's metrics files are left as they are.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path


def main(src: str, dst: str) -> int:
    import torch

    from goftar.inference.modeling import GoftarModel

    src_p, dst_p = Path(src), Path(dst)
    model = GoftarModel.from_pretrained(src_p)
    dst_p.mkdir(parents=True, exist_ok=True)
    for old in dst_p.glob("model*.safetensors*"):
        old.unlink()
    state = {k: v.detach().to(torch.float16) for k, v in model.state_dict().items()}
    model.save_pretrained(dst_p, state_dict=state, max_shard_size="20MB")
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (src_p / name).exists():
            shutil.copy(src_p / name, dst_p / name)
    if (src_p / "README.md").exists() and not (dst_p / "README.md").exists():
        shutil.copy(src_p / "README.md", dst_p / "README.md")
    size = sum(p.stat().st_size for p in dst_p.iterdir() if p.is_file())
    print(f"{dst_p}: {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
