"""The ``goftar`` command line: one script, one subcommand per job.

Subcommands import their dependencies lazily, so ``goftar predict`` and
``goftar validate`` work in a runtime-only install.
"""
from __future__ import annotations

import argparse
import importlib
import sys


def _validate(args) -> int:
    from goftar.inference.validate import validate_files

    n, problems = validate_files(args.files)
    for p in problems:
        print(p)
    print(f"{n} documents checked, {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="goftar", description="Persian news information extraction")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="check goftar JSONL files against ANNOTATION.md")
    p.add_argument("files", nargs="+")
    p.set_defaults(func=_validate)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return ap


# Each module defines ``register(subparsers)`` and keeps heavy imports inside
# its command functions, so building the parser stays cheap.
COMMAND_MODULES: list[str] = [
    "goftar.inference.predict",
    "goftar.inference.formats",
    "goftar.training.train",
    "goftar.training.evaluate",
    "goftar.training.scoring",
    "goftar.training.encoder_build",
    "goftar.training.export",
    "goftar.inference.views.table",
    "goftar.inference.views.render",
    "goftar.inference.views.report",
]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
