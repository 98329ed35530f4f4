"""Copy a trained checkpoint to the shipped location in fp16 safetensors shards.

    python scripts/ship_model.py runs/continue/best models/goftar-fa-small
    python scripts/ship_model.py OLD_RUN/best models/goftar-fa-small --cue-lexicon inference/cues.yaml

A checkpoint trained before checkpoints carried their cue lexicon (goftar < 0.4) was trained with
the package's lexicon of its day; ``--cue-lexicon`` stores that lexicon in the shipped config (a
checkpoint that has one keeps it unless this is given).

fp16 keeps the model under 60 MB; shards stay under 20 MB each so the
repository never holds one huge file. The tokenizer, config and model card
(README.md, if the source has one and the target does not) come along; the
target's metrics files are left as they are.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    import argparse

    import torch

    from goftar.inference.cues import Lexicon
    from goftar.inference.modeling import GoftarModel

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", help="a trained checkpoint folder (a run's best/)")
    ap.add_argument("dst", help="the folder to ship it to")
    ap.add_argument("--cue-lexicon", help="store this cue lexicon (YAML) in the shipped config")
    args = ap.parse_args(argv)
    src_p, dst_p = Path(args.src), Path(args.dst)
    if not (src_p / "config.json").is_file():
        ap.error(f"{src_p}: not a goftar checkpoint (no config.json)")
    model = GoftarModel.from_pretrained(src_p)
    if args.cue_lexicon:
        model.config.cue_lexicon = Lexicon.from_yaml(args.cue_lexicon).data
    elif not model.config.cue_lexicon:
        print(f"{src_p}: the checkpoint carries no cue lexicon; it will run with the package's (see --cue-lexicon)")
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
    sys.exit(main())
