"""Old import path of the Label Studio reader and writer, now :mod:`goftar.inference.formats.labelstudio`."""
from .formats.labelstudio import *  # noqa: F401,F403
from .formats.labelstudio import ImportNote, iter_labelstudio_located, split_label, span_label, task_score  # noqa: F401
