"""``goftar validate``: its options and command function live beside the code they run, :mod:`goftar.inference.validate`."""
from goftar.inference.validate import register  # noqa: F401  (that module keeps heavy imports inside the command)
