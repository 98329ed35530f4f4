"""``goftar render``: its options and command function live beside the code they run, :mod:`goftar.inference.views.render`."""
from goftar.inference.views.render import register  # noqa: F401  (that module keeps heavy imports inside the command)
