"""``python -m tools.encoder build --out DIR``: the offline encoder bootstrap (run from the repository root)."""
import sys

from .build import main

sys.exit(main())
