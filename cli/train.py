"""``goftar train``: its options and command function live beside the code they run, :mod:`goftar.training.train`."""
from goftar.training.train import register  # noqa: F401  (that module keeps heavy imports inside the command)
