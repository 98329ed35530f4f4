"""``goftar predict``: its options and command function live beside the code they run, :mod:`goftar.inference.predict`."""
from goftar.inference.predict import register  # noqa: F401  (that module keeps heavy imports inside the command)
