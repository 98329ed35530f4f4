"""Old home of the ``goftar`` command line, now :mod:`goftar.cli` (the console script's ``goftar.cli:main``)."""
import sys

from goftar.cli import COMMAND_MODULES, EXTRAS, build_parser, main  # noqa: F401

if __name__ == "__main__":
    sys.exit(main())
