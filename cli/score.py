"""``goftar score``: its options and command function live beside the code they run, :mod:`goftar.training.scoring`."""
from goftar.training.scoring import register  # noqa: F401  (that module keeps heavy imports inside the command)
