"""``goftar evaluate``: its options and command function live beside the code they run, :mod:`goftar.training.evaluate`."""
from goftar.training.evaluate import register  # noqa: F401  (that module keeps heavy imports inside the command)
