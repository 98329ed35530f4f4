"""``goftar report``: its options and command function live beside the code they run, :mod:`goftar.inference.views.report`."""
from goftar.inference.views.report import register  # noqa: F401  (that module keeps heavy imports inside the command)
