"""``goftar quotes``: its options and command function live beside the code they run, :mod:`goftar.inference.views.table`."""
from goftar.inference.views.table import register  # noqa: F401  (that module keeps heavy imports inside the command)
