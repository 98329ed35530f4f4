"""The errors goftar raises for bad input, as opposed to its own bugs.

The command line prints an :class:`InputError` as one line and exits with
:data:`EXIT_BAD_INPUT`; anything else is an internal error
(:data:`EXIT_INTERNAL`, traceback with ``--debug``).
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_RECORD_ERRORS = 1  # the run finished, some records (or all) had errors: each is in the output / on stderr
EXIT_BAD_INPUT = 2  # the run could not start or go on because of what it was given (file, option, model folder, config)
EXIT_INTERNAL = 3  # a bug in goftar (or its libraries): please report it with the --debug traceback
EXIT_INTERRUPTED = 130  # Ctrl-C / SIGTERM: what was finished is written; resume with --resume


class InputError(ValueError):
    """Something the user gave is wrong; the message names the file (and line, key, …) and what is wrong."""


class ModelError(InputError):
    """A model folder that cannot be used; the message names the file and what is wrong."""
