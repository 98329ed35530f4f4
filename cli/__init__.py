"""The ``goftar`` command line: one script, one thin module per subcommand in this package.

Each ``goftar.cli.<command>`` module has ``register(subparsers)``; commands
import their dependencies lazily, so ``goftar predict`` and ``goftar
validate`` work in a runtime-only install (no torch with ``--backend onnx``).

Errors are printed as one line, not a traceback (``--debug`` shows it).
Exit status: 0 done; 1 done, but records had errors (each reported); 2 bad
input (a file, an option, a model folder, a config: the message says which);
3 internal error (a bug: rerun with --debug and report the traceback); 130
interrupted (Ctrl-C / SIGTERM).
"""
from __future__ import annotations

import argparse
import importlib
import sys


# What a torch-free (or otherwise partial) install lacks → the extra that brings it.
EXTRAS = {"torch": "torch", "transformers": "torch", "safetensors": "torch", "datasets": "train", "seqeval": "train",
          "accelerate": "train", "onnx": "export", "onnxruntime": "onnx"}


def _version() -> str:
    from goftar.inference import __version__

    try:
        from importlib.metadata import version

        installed = version("goftar")
    except Exception:
        installed = __version__
    return f"goftar {installed}"


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="goftar", description="Persian news information extraction",
                                 epilog="Exit status: 0 done, 1 some records had errors, 2 bad input, 3 internal error, 130 interrupted.")
    ap.add_argument("--version", action="version", version=_version(), help="print goftar's version and exit")
    ap.add_argument("--debug", action="store_true", help="on an error, print the full traceback instead of one line")
    sub = ap.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return ap


# Each module defines ``register(subparsers)`` and keeps heavy imports inside
# its command functions, so building the parser stays cheap.
COMMAND_MODULES: list[str] = [
    "goftar.cli.validate",
    "goftar.cli.predict",
    "goftar.cli.convert",
    "goftar.cli.train",
    "goftar.cli.evaluate",
    "goftar.cli.score",
    "goftar.cli.export",
    "goftar.cli.quotes",
    "goftar.cli.render",
    "goftar.cli.report",
]


def _bad_input_types() -> tuple[type, ...]:
    from goftar.inference.errors import InputError

    types: list[type] = [InputError, FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError, UnicodeDecodeError]
    try:
        from goftar.inference.formats import FormatError

        types.append(FormatError)
    except Exception:
        pass
    return tuple(types)


def main(argv: list[str] | None = None) -> int:
    from goftar.inference.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED

    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv  # accepted anywhere on the line, before or after the subcommand
    args = build_parser().parse_args([a for a in argv if a != "--debug"])
    name = f"goftar {args.command}"
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ModuleNotFoundError as exc:
        if debug:
            raise
        missing = (exc.name or "").split(".")[0]
        extra = EXTRAS.get(missing)
        if extra is None:
            print(f"{name}: internal error: {exc} (rerun with --debug for the traceback)", file=sys.stderr)
            return EXIT_INTERNAL
        hint = " (or --backend onnx with a `goftar export` folder)" if args.command in ("predict", "evaluate") and extra == "torch" else ""
        print(f"{name}: needs {missing}, which is not installed: pip install \"goftar[{extra}]\"{hint}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except _bad_input_types() as exc:
        if debug:
            raise
        msg = str(exc) if not isinstance(exc, OSError) or not exc.filename else f"{exc.filename}: {exc.strerror}"
        print(f"{name}: error: {msg}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:
        if debug:
            raise
        print(f"{name}: internal error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
