"""goftar.inference: run a trained goftar model over Persian news text.

Imports only torch, transformers/tokenizers and numpy (or, with the ONNX
backend, only onnxruntime, tokenizers and numpy).
"""
from .document import Document, DocumentError, Entity, Relation, read_jsonl, write_jsonl
from .normalize import Normalizer, normalize
from .schema import Schema

__version__ = "0.1.0"  # the one version string: pyproject.toml and checkpoints read it from here

__all__ = [
    "Document", "DocumentError", "Entity", "Relation", "read_jsonl", "write_jsonl",
    "Normalizer", "normalize", "Schema", "Extractor", "__version__",
]


def __getattr__(name):  # lazy: the Extractor pulls in the model backend
    if name == "Extractor":
        from .extractor import Extractor

        return Extractor
    raise AttributeError(name)
