"""``python -m goftar.cli``: the ``goftar`` console script."""
import sys

from . import main

sys.exit(main())
