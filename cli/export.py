"""``goftar export``: its options and command function live beside the code they run, :mod:`goftar.training.export`."""
from goftar.training.export import register  # noqa: F401  (that module keeps heavy imports inside the command)
