"""The ``goftar`` command line: one script, one subcommand per job.

Subcommands import their dependencies lazily, so ``goftar predict`` and
``goftar validate`` work in a runtime-only install.
"""
from __future__ import annotations

import argparse
import importlib
import sys


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="goftar", description="Persian news information extraction")
    sub = ap.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return ap


# Each module defines ``register(subparsers)`` and keeps heavy imports inside
# its command functions, so building the parser stays cheap.
COMMAND_MODULES: list[str] = [
    "goftar.inference.validate",
    "goftar.inference.predict",
    "goftar.inference.formats",
    "goftar.training.train",
    "goftar.training.evaluate",
    "goftar.training.scoring",
    "goftar.training.encoder_build",
    "goftar.training.export",
]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
